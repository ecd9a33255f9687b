# deepshear estimate and evaluate split over MPI ranks give the same bytes as
# one process: estimate on 9,000 stamps (chunks of 4,096, so ranks start
# mid-chunk, and RRG's G settles on the set's first chunk), evaluate on a
# small calibration and test set, each as a plain process and at 1, 2 and 3
# ranks (3 oversubscribed) in folders of their own, with the same command
# line and SOURCE_DATE_EPOCH; every file written is compared.
# Inputs: CLI, MPIEXEC, WORK_DIR.
include("${CMAKE_CURRENT_LIST_DIR}/mpi_common.cmake")
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
  same_files(plain np${k} "one process and ${k} MPI ranks" ${written})
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "estimate and evaluate: the same ${count} files on 1 process and on 1, 2 and 3 MPI ranks")
