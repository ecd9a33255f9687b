#!/bin/bash
# Slurm batch script: data-parallel training on 2 nodes x 16 cores, one MPI
# rank per core with one thread each. The weights are the same bits as one
# process's. Training checkpoints every 500 steps; if the job ends (time
# limit, a failed node), submitting it again resumes from the checkpoint, at
# any rank count.
#   sbatch examples/slurm_train.sh
#SBATCH --job-name=deepshear-train
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=16
#SBATCH --cpus-per-task=1
#SBATCH --time=04:00:00
#SBATCH --output=deepshear-train-%j.log
set -euo pipefail
# 32 ranks hold 32 shards of 25 samples: a batch of 800. (The default batch
# of 100 has 4 shards; ranks beyond the shard count wait.)
srun --cpu-bind=cores deepshear train --threads 1 --batch 800 --train.n 2000000 --epochs 100 \
  --checkpoint_every 500 --out models/model_2m.dsm
