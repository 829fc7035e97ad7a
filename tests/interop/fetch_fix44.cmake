# fetch_fix44.cmake: get QuickFIX's FIX 4.4 data dictionary (package/data/FIX44.xml
# of the npm package jspurefix) into DIR once; later runs reuse it.
if(EXISTS ${DIR}/FIX44.xml)
  return()
endif()
file(MAKE_DIRECTORY ${DIR})
execute_process(COMMAND npm pack jspurefix --silent WORKING_DIRECTORY ${DIR}
                RESULT_VARIABLE rc OUTPUT_VARIABLE tgz OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0 OR tgz STREQUAL "")
  message(FATAL_ERROR "npm pack jspurefix failed (${rc}): the FIX44.xml dictionary is needed")
endif()
string(REGEX REPLACE ".*\n" "" tgz "${tgz}")
execute_process(COMMAND ${CMAKE_COMMAND} -E tar xzf ${tgz} package/data/FIX44.xml
                WORKING_DIRECTORY ${DIR} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT EXISTS ${DIR}/package/data/FIX44.xml)
  message(FATAL_ERROR "package/data/FIX44.xml not found in ${tgz}")
endif()
file(RENAME ${DIR}/package/data/FIX44.xml ${DIR}/FIX44.xml)
file(REMOVE_RECURSE ${DIR}/package)
file(REMOVE ${DIR}/${tgz})
