# cmake -DCLI=path/to/devexcl -DOUT=devexcl.1 -P man_page.cmake
# The man page is what the CLI prints for its hidden --man: the same table
# as its --help (cli/help_table.cpp).
execute_process(COMMAND ${CLI} --man OUTPUT_FILE ${OUT}.tmp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUT}.tmp)
  message(FATAL_ERROR "${CLI} --man failed: ${rc}")
endif()
file(RENAME ${OUT}.tmp ${OUT})
