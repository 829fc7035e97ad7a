# BoursePlugin.cmake: bourse_add_plugin(), the one way to build a Bourse plugin.
# Used by in-tree plugins and installed with the SDK for third parties.
#
#   bourse_add_plugin(my_venue SOURCES venue.c [LIBRARIES ...]
#                     [OUTPUT_DIRECTORY dir] [INSTALL] [INSTALL_DIR dir])
#
# Builds a MODULE library named exactly NAME.so (no "lib" prefix) against
# Bourse::api alone, C11, hidden visibility (only brs_plugin_entry is exported),
# and refuses undefined symbols at link time, so a plugin that reaches for host
# symbols fails to build instead of failing to load.
# INSTALL adds an install rule to INSTALL_DIR (default: BOURSE_PLUGIN_INSTALL_DIR,
# else lib/bourse/plugins under the install prefix, where the host searches).
include_guard(GLOBAL)

function(bourse_add_plugin name)
  cmake_parse_arguments(ARG "INSTALL" "OUTPUT_DIRECTORY;INSTALL_DIR" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "bourse_add_plugin(${name}): SOURCES is required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "bourse_add_plugin(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE Bourse::api ${ARG_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    SUFFIX ".so"
    C_STANDARD 11
    C_STANDARD_REQUIRED ON
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(NOT APPLE)
    target_link_options(${name} PRIVATE "LINKER:--no-undefined")
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(DEFINED BOURSE_PLUGIN_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${BOURSE_PLUGIN_OUTPUT_DIRECTORY})
  endif()
  if(ARG_INSTALL)
    if(ARG_INSTALL_DIR)
      set(dest ${ARG_INSTALL_DIR})
    elseif(DEFINED BOURSE_PLUGIN_INSTALL_DIR)
      set(dest ${BOURSE_PLUGIN_INSTALL_DIR})
    else()
      set(dest lib/bourse/plugins)
    endif()
    install(TARGETS ${name} LIBRARY DESTINATION ${dest})
  endif()
endfunction()
