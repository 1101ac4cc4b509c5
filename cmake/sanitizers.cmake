# ASan+UBSan for the whole build; with LATTICE_FUZZ the libraries also get coverage
# instrumentation (fuzzer-no-link) so one build runs both the tests and the fuzz targets.
if(LATTICE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(LATTICE_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
