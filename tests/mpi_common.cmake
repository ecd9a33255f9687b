# What the MPI test scripts share: a fresh WORK_DIR, the environment (the
# provenance date fixed; Open MPI allowed to run as root, as in CI), and
# helpers. Included with include(); the includer's inputs: CLI, MPIEXEC, WORK_DIR.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(ENV{SOURCE_DATE_EPOCH} 1700000000)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT} 1)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT_CONFIRM} 1)

# Runs a command in WORK_DIR/dir (made if needed); a failure ends the test with its stderr.
function(run dir)
  file(MAKE_DIRECTORY "${WORK_DIR}/${dir}")
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${WORK_DIR}/${dir}" RESULT_VARIABLE rc ERROR_VARIABLE err
                  OUTPUT_QUIET TIMEOUT 240)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${dir}: failed (${rc}): ${ARGN}\n${err}")
  endif()
endfunction()

# Fails unless WORK_DIR/a/f and WORK_DIR/b/f hold the same bytes, for each f.
function(same_files a b what)
  foreach(f ${ARGN})
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORK_DIR}/${a}/${f}" "${WORK_DIR}/${b}/${f}"
                    RESULT_VARIABLE same)
    if(NOT same EQUAL 0)
      message(FATAL_ERROR "${f} differs between ${what}")
    endif()
  endforeach()
endfunction()
