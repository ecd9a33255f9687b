# Runs python/tests with pytest against the package in the build tree, or
# prints "python: pytest skipped: <what is missing>" (CTest's
# SKIP_REGULAR_EXPRESSION marks the test skipped). Inputs: PYTHON,
# PYTHON_PATH (build/python), STATUS (python/CMakeLists.txt's verdict),
# TESTS, DEEPSHEAR_CLI (the command, for the tests that compare with it).
if(NOT STATUS STREQUAL "built")
  message("python: pytest skipped: the package was not built: ${STATUS}")
  return()
endif()
execute_process(COMMAND ${PYTHON} -c "import pytest" RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
if(NOT rc EQUAL 0)
  message("python: pytest skipped: ${PYTHON} has no pytest (Debian: python3-pytest)")
  return()
endif()
set(ENV{PYTHONPATH} "${PYTHON_PATH}")
set(ENV{DEEPSHEAR_CLI} "${DEEPSHEAR_CLI}")
execute_process(COMMAND ${PYTHON} -m pytest -q -p no:cacheprovider ${TESTS} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pytest failed (${rc})")
endif()
