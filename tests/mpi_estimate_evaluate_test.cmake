# deepshear estimate and evaluate split over MPI ranks give the same bytes as
# one process: estimate on 9,000 stamps (chunks of 4,096, so ranks start
# mid-chunk, and RRG's G settles on the set's first chunk), evaluate on a
# small calibration and test set, each as a plain process and at 1, 2 and 3
# ranks (3 oversubscribed) in folders of their own, with the same command
# line and SOURCE_DATE_EPOCH; every file written is compared.
# Inputs: CLI, MPIEXEC, WORK_DIR.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(ENV{SOURCE_DATE_EPOCH} 1700000000)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT} 1)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT_CONFIRM} 1)
function(run dir)
  file(MAKE_DIRECTORY "${WORK_DIR}/${dir}")
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${WORK_DIR}/${dir}" RESULT_VARIABLE rc ERROR_VARIABLE err
                  TIMEOUT 240)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${dir}: failed (${rc}): ${ARGN}\n${err}")
  endif()
endfunction()
run(. ${CLI} simulate --n 9000 --seed 6 -q -o stamps.fits)
set(estimate estimate ../stamps.fits --estimators cnn,rrg,ksb --no-symmetrise --threads 1 -q -o e.fits)
set(evaluate evaluate --estimators cnn,rrg,ksb --symmetrise false --n 2500 --calibration_n 1500 --nboot 5
    --sweep_n 150 --threads 1 -q --out ev)
run(plain ${CLI} ${estimate})
run(plain ${CLI} ${evaluate})
file(GLOB_RECURSE written RELATIVE "${WORK_DIR}/plain" "${WORK_DIR}/plain/*")
list(LENGTH written count)
if(count LESS 20)
  message(FATAL_ERROR "expected the estimate table and the evaluation folder, found: ${written}")
endif()
foreach(k 1 2 3)
  run(np${k} ${MPIEXEC} --oversubscribe -np ${k} ${CLI} ${estimate})
  run(np${k} ${MPIEXEC} --oversubscribe -np ${k} ${CLI} ${evaluate})
  foreach(f ${written})
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORK_DIR}/plain/${f}" "${WORK_DIR}/np${k}/${f}"
                    RESULT_VARIABLE same)
    if(NOT same EQUAL 0)
      message(FATAL_ERROR "${f} differs between one process and ${k} MPI ranks")
    endif()
  endforeach()
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "estimate and evaluate: the same ${count} files on 1 process and on 1, 2 and 3 MPI ranks")
