# deepshear cluster --fields spread over MPI ranks: three mock fields run as a
# plain process and at 2 and 3 ranks (one field per rank at 3), each in its
# own folder with the same command line. Every field's catalogue, noise
# kernel and picture are compared byte for byte, and the run summary (written
# by rank 0) must list the fields in order with the same counts. Timings and
# SExtractor's staging paths differ from run to run and are not compared.
# Inputs: CLI, MPIEXEC, WORK_DIR.
find_program(SEXTRACTOR NAMES source-extractor sex)
if(NOT SEXTRACTOR)
  message(STATUS "skipped: SExtractor (Debian package source-extractor) is not installed")
  return()
endif()
include("${CMAKE_CURRENT_LIST_DIR}/mpi_common.cmake")
set(list "")
foreach(s 1 2 3)
  run(. ${CLI} mock-cluster -o m${s} --size 60 --seed ${s} -q)
  string(APPEND list "name=f${s} image=${WORK_DIR}/m${s}/mock_sci.fits weight=${WORK_DIR}/m${s}/mock_wht.fits\n")
endforeach()
file(WRITE "${WORK_DIR}/fields.txt" "${list}")
set(args cluster --fields ${WORK_DIR}/fields.txt --threads 1 -q --out o)
# The summary's fields, in order, with their source counts.
function(summary dir out)
  file(READ "${WORK_DIR}/${dir}/o/cluster_summary.json" text)
  string(REGEX MATCHALL "\"field\": \"f[0-9]\"|\"(sources|kept)\": [0-9]+" items "${text}")
  set(${out} "${items}" PARENT_SCOPE)
endfunction()
run(plain ${CLI} ${args})
summary(plain want)
if(NOT want MATCHES "f1.*f2.*f3")
  message(FATAL_ERROR "one process: the summary lists ${want}")
endif()
foreach(k 2 3)
  run(np${k} ${MPIEXEC} --oversubscribe -np ${k} ${CLI} ${args})
  foreach(s 1 2 3)
    same_files(plain/o np${k}/o "one process and ${k} MPI ranks" f${s}_shear.fits f${s}_noise_kernel.txt
               f${s}_point_sources.png)
  endforeach()
  summary(np${k} got)
  if(NOT got STREQUAL want)
    message(FATAL_ERROR "${k} ranks: the summary lists ${got}; one process: ${want}")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "cluster --fields: the same catalogues and summary on one process and on 2 and 3 MPI ranks")
