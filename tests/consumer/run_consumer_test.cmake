# Installs the built deepshear into a scratch prefix, builds tests/consumer
# against it with find_package(deepshear), and runs it.
# Inputs: SOURCE_DIR, BUILD_DIR, WORK_DIR; SANITIZE (the build's sanitizers,
# which the consumer must link too: the runtime comes first); PYTHON and
# PYTHON_DIR (when the Python package is built: the installed package must
# import from <prefix>/PYTHON_DIR with no other path set, and work).
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
endfunction()
run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix")
set(flags "")
if(SANITIZE)
  set(flags "-DCMAKE_CXX_FLAGS=-fsanitize=${SANITIZE}" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=${SANITIZE}")
endif()
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer" -B "${WORK_DIR}/build"
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release ${flags})
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/consumer" "${WORK_DIR}/consumer.fits")
message(STATUS "consumer project built and ran against the installed package")
if(PYTHON)
  set(check "import deepshear, numpy as np; assert deepshear.__file__.startswith('${WORK_DIR}/prefix'), deepshear.__file__; "
            "c = deepshear.estimate(np.zeros((2, 32, 32), np.float32), ('rrg',), progress=False); "
            "assert list(c['FLAGS_RRG']) != [0, 0]; print(deepshear.__version__)")
  run(${CMAKE_COMMAND} -E env PYTHONPATH=${WORK_DIR}/prefix/${PYTHON_DIR} LD_LIBRARY_PATH= ${PYTHON} -c "${check}")
  message(STATUS "the installed Python package imports from ${WORK_DIR}/prefix/${PYTHON_DIR}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
