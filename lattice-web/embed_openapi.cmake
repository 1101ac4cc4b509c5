# Writes OUTPUT, a C++ file defining lattice::web::OpenApiDocument() with INPUT's text.
file(READ ${INPUT} document)
string(LENGTH "${document}" length)
set(pieces "")
# String literals are cut into pieces well under every compiler's limit.
set(offset 0)
while(offset LESS length)
  string(SUBSTRING "${document}" ${offset} 8000 piece)
  string(APPEND pieces "      R\"lattice_openapi(${piece})lattice_openapi\"\n")
  math(EXPR offset "${offset} + 8000")
endwhile()
file(WRITE ${OUTPUT} "// Generated from lattice-web/openapi.json; do not edit.\n#include <string>\n\nnamespace lattice::web {\n\nconst std::string& OpenApiDocument() {\n  static const std::string document =\n${pieces}      ;\n  return document;\n}\n\n}  // namespace lattice::web\n")
