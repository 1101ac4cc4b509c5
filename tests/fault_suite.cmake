# The random fault suite (tests/integration/fault_suite_test.py): three real kernels on
# loopback, random writes, kills, restarts and cut links for a minute, then convergence, every
# acknowledged write and `debug verify` checked on every node. CI runs a fixed seed; run the
# script by hand with --seed N (any seed) to explore, or to replay the seed a failure printed.
include_guard(GLOBAL)

if(TARGET lattice-kernel AND TARGET lattice-ctl)
  add_test(NAME fault_suite_fixed_seed
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/integration/fault_suite_test.py
                   --kernel $<TARGET_FILE:lattice-kernel> --ctl $<TARGET_FILE:lattice-ctl>
                   --seed 20261203 --nodes 3 --seconds 60)
  set_tests_properties(fault_suite_fixed_seed PROPERTIES COST 70 LABELS "integration;fault-suite"
                       TIMEOUT 600)
endif()
