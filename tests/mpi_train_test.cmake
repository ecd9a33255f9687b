# deepshear train, data parallel over MPI ranks, gives bitwise the weights of
# one process for the same global batch: a short run as a plain process and
# at 2 and 3 ranks (batches of 4 shards, so 3 ranks hold 2, 1 and 1), the
# weights compared by the digest `deepshear inspect` prints. Then a run
# stopped after 4 steps on 2 ranks and resumed from its checkpoint on one
# process ends with the same weights too. Inputs: CLI, MPIEXEC, WORK_DIR.
include("${CMAKE_CURRENT_LIST_DIR}/mpi_common.cmake")
set(args train --train.n 500 --val_n 120 --refit_n 200 --calibration_n 200 --epochs 2 --batch 100
    --evaluate_n 0 --checkpoint_every 2 --threads 1 -q --out m.dsm)
# The model's weights digest and calibration, as inspect prints them.
function(model_summary dir out)
  execute_process(COMMAND ${CLI} inspect "${WORK_DIR}/${dir}/m.dsm" OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  string(REGEX MATCHALL "(weights|calibration)[^\n]*" lines "${text}")
  if(NOT rc EQUAL 0 OR NOT lines MATCHES "weights +FNV-1a 64 [0-9a-f]+")
    message(FATAL_ERROR "${dir}: no weights digest in: ${text}")
  endif()
  set(${out} "${lines}" PARENT_SCOPE)
endfunction()
run(plain ${CLI} ${args})
model_summary(plain want)
foreach(k 2 3)
  run(np${k} ${MPIEXEC} --oversubscribe -np ${k} ${CLI} ${args})
  model_summary(np${k} got)
  if(NOT got STREQUAL want)
    message(FATAL_ERROR "${k} ranks: ${got}\none process: ${want}")
  endif()
endforeach()
run(resumed ${MPIEXEC} --oversubscribe -np 2 ${CLI} ${args} --max_steps 4)
run(resumed ${CLI} ${args})
model_summary(resumed got)
if(NOT got STREQUAL want)
  message(FATAL_ERROR "stopped on 2 ranks, resumed on one: ${got}\nuninterrupted: ${want}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "train: the same weights on one process, on 2 and 3 ranks, and resumed across rank counts (${want})")
