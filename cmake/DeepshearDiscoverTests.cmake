# Registers every doctest case of a test binary as one CTest test, labelled
# 'slow' when it is in TEST_SUITE("slow"). Written here rather than using
# doctest's own discovery, which breaks on names containing ';', ',' or '['.
#
# deepshear_discover_tests(TARGET PREFIX WORKDIR) in a CMakeLists; the script
# part below runs after each build of TARGET and writes the CTest file.
if(CMAKE_SCRIPT_MODE_FILE)
  cmake_minimum_required(VERSION 3.18)
  # Script mode: inputs TEST_EXE, PREFIX, WORKDIR, OUT.
  function(list_cases out_var)
    execute_process(COMMAND "${TEST_EXE}" --list-test-cases ${ARGN} --no-colors=1
      OUTPUT_VARIABLE text RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${TEST_EXE} --list-test-cases failed (${rc})")
    endif()
    # Protect CMake's list syntax before splitting into lines.
    string(REPLACE ";" "@SEMI@" text "${text}")
    string(REPLACE "[" "@LB@" text "${text}")
    string(REPLACE "]" "@RB@" text "${text}")
    string(REPLACE "\n" ";" lines "${text}")
    set(names "")
    foreach(line IN LISTS lines)
      if(line STREQUAL "" OR line MATCHES "^@LB@doctest@RB@" OR line MATCHES "^=====")
        continue()
      endif()
      list(APPEND names "${line}")
    endforeach()
    set(${out_var} "${names}" PARENT_SCOPE)
  endfunction()
  list_cases(all)
  list_cases(slow --test-suite=slow)
  set(script "")
  foreach(name IN LISTS all)
    set(label "fast")
    if(name IN_LIST slow)
      set(label "slow")
    endif()
    set(plain "${name}")
    string(REPLACE "@SEMI@" ";" plain "${plain}")
    string(REPLACE "@LB@" "[" plain "${plain}")
    string(REPLACE "@RB@" "]" plain "${plain}")
    # doctest filters: ',' separates patterns, '*' '?' are wildcards; escape them.
    set(filter "${plain}")
    string(REPLACE "\\" "\\\\" filter "${filter}")
    string(REPLACE "," "\\," filter "${filter}")
    string(REPLACE "*" "?" filter "${filter}")
    string(APPEND script
      "add_test([==[${PREFIX}${plain}]==] \"${TEST_EXE}\" [==[--test-case=${filter}]==] --no-colors=1)\n"
      "set_tests_properties([==[${PREFIX}${plain}]==] PROPERTIES WORKING_DIRECTORY \"${WORKDIR}\" LABELS ${label})\n")
  endforeach()
  file(WRITE "${OUT}" "${script}")
  return()
endif()

set(_DEEPSHEAR_DISCOVER_SCRIPT "${CMAKE_CURRENT_LIST_FILE}")
function(deepshear_discover_tests target prefix workdir)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}_tests.cmake")
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DTEST_EXE=$<TARGET_FILE:${target}> "-DPREFIX=${prefix}"
            -DWORKDIR=${workdir} -DOUT=${out} -P ${_DEEPSHEAR_DISCOVER_SCRIPT}
    VERBATIM)
  set(include_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_include.cmake")
  file(WRITE "${include_file}" "if(EXISTS \"${out}\")\n  include(\"${out}\")\nelse()\n  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include_file}")
endfunction()
