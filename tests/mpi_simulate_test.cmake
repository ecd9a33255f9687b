# deepshear simulate split over MPI ranks writes the same bytes as one process:
# runs it as a plain process and under mpirun with 1, 2 and 3 ranks (3
# oversubscribed), each in its own folder with the same command line and
# SOURCE_DATE_EPOCH (the provenance's date), and compares the files. Then a
# command that does not split over ranks refuses, on one line per rank, and
# the job ends. Inputs: CLI, MPIEXEC, WORK_DIR.
include("${CMAKE_CURRENT_LIST_DIR}/mpi_common.cmake")
set(args simulate --n 37 --seed 5 --threads 1 -q -o s.fits)
run(plain ${CLI} ${args})
foreach(k 1 2 3)
  run(np${k} ${MPIEXEC} --oversubscribe -np ${k} ${CLI} ${args})
  same_files(plain np${k} "one process and ${k} MPI ranks" s.fits s.fits.cfg)
endforeach()
execute_process(COMMAND ${MPIEXEC} --oversubscribe -np 2 ${CLI} maps --out m WORKING_DIRECTORY "${WORK_DIR}"
                RESULT_VARIABLE rc ERROR_VARIABLE err TIMEOUT 60)
if(rc EQUAL 0 OR NOT err MATCHES "rank [01]: maps does not split over MPI ranks yet")
  message(FATAL_ERROR "maps on 2 ranks: expected a refusal, got (${rc}) ${err}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "simulate: the same bytes on 1 process and on 1, 2 and 3 MPI ranks")
