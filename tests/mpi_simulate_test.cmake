# deepshear simulate split over MPI ranks writes the same bytes as one process:
# runs it as a plain process and under mpirun with 1, 2 and 3 ranks (3
# oversubscribed), each in its own folder with the same command line and
# SOURCE_DATE_EPOCH (the provenance's date), and compares the files. Then a
# command that does not split over ranks refuses, on one line per rank, and
# the job ends. Inputs: CLI, MPIEXEC, WORK_DIR.
file(REMOVE_RECURSE "${WORK_DIR}")
set(ENV{SOURCE_DATE_EPOCH} 1700000000)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT} 1)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT_CONFIRM} 1)
set(args simulate --n 37 --seed 5 --threads 1 -q -o s.fits)
function(run dir)
  file(MAKE_DIRECTORY "${WORK_DIR}/${dir}")
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${WORK_DIR}/${dir}" RESULT_VARIABLE rc ERROR_VARIABLE err
                  TIMEOUT 120)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${dir}: failed (${rc}): ${ARGN}\n${err}")
  endif()
endfunction()
run(plain ${CLI} ${args})
foreach(k 1 2 3)
  run(np${k} ${MPIEXEC} --oversubscribe -np ${k} ${CLI} ${args})
  foreach(f s.fits s.fits.cfg)
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORK_DIR}/plain/${f}" "${WORK_DIR}/np${k}/${f}"
                    RESULT_VARIABLE same)
    if(NOT same EQUAL 0)
      message(FATAL_ERROR "${f} differs between one process and ${k} MPI ranks")
    endif()
  endforeach()
endforeach()
execute_process(COMMAND ${MPIEXEC} --oversubscribe -np 2 ${CLI} maps --out m WORKING_DIRECTORY "${WORK_DIR}"
                RESULT_VARIABLE rc ERROR_VARIABLE err TIMEOUT 60)
if(rc EQUAL 0 OR NOT err MATCHES "rank [01]: maps does not split over MPI ranks yet")
  message(FATAL_ERROR "maps on 2 ranks: expected a refusal, got (${rc}) ${err}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "simulate: the same bytes on 1 process and on 1, 2 and 3 MPI ranks")
