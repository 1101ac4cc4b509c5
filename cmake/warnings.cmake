# Warning flags for Lattice's own targets (generated protobuf code is exempt).
function(lattice_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
  # GCC 12 reports -Wrestrict falsely inside libstdc++'s std::string at -O2 (GCC bug 105329).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(LATTICE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
