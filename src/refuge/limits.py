"""The largest runs refuge accepts, kept apart so the command line can check them without importing the model."""

#: the most members one run may have; beyond, a run needs a cluster and a store of its own
MAX_MEMBERS = 10_000_000
#: the largest seed (it is stored as a signed 64-bit number in the results)
MAX_SEED = 2**63 - 1
#: the largest seed a calibration or backtest takes: the samplers' own generators take 32 bits
MAX_SAMPLER_SEED = 2**32 - 1
#: the most posterior draws an estimate simulates: 1,000 give its interval to a few per cent, 100,000 most of an hour
MAX_DRAWS = 100_000
