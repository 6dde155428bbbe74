# Writes OUT, a C file holding IN (docs/openapi.json) as api__openapi_json:
# the document stays one file in docs/ and the binary serves exactly it.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR n "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT}.tmp "/* Generated from docs/openapi.json by src/api/openapi_embed.cmake. */\n"
     "#include <stddef.h>\n"
     "extern const unsigned char api__openapi_json[];\n"
     "extern const size_t api__openapi_json_len;\n"
     "const unsigned char api__openapi_json[] = {\n${bytes}0x00 };\n"
     "const size_t api__openapi_json_len = ${n};\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
