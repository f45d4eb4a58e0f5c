# Checks that every source folder includes only the folders the layering allows
# (ARCHITECTURE.md). Run by ctest as Layering.IncludesFollowTheRule: cmake -DROOT=<src> -P this.
# The link lines enforce the rule for code; this catches header-only back-edges, which no link
# line sees.

# folder -> the other folders of ours its sources may include (its own is always allowed).
set(allowed_util "")
set(allowed_fetch "util")
set(allowed_storage "util")
set(allowed_server "util")
set(allowed_archive "util;fetch")
set(allowed_crawler/url "util")
set(allowed_crawler/html "util")
set(allowed_crawler/robots "util")
set(allowed_crawler/sitemap "util")
set(allowed_crawler/mirror "util;crawler/url;crawler/html")
set(allowed_crawler/jobs "util;fetch;storage;archive;crawler/url;crawler/mirror")
set(allowed_crawler/crawl "util;fetch;storage;crawler/url;crawler/html;crawler/robots;crawler/sitemap")
set(allowed_crawler/pgfrontier "util;fetch;storage;crawler/url;crawler/robots;crawler/crawl")
set(allowed_cli "util;fetch;storage;archive;server;crawler/url;crawler/html;crawler/robots;crawler/jobs;crawler/mirror;crawler/crawl;crawler/pgfrontier")
set(folders util fetch storage server archive crawler/url crawler/html crawler/robots crawler/sitemap
    crawler/jobs crawler/mirror crawler/crawl crawler/pgfrontier cli)

set(violations "")
foreach(folder IN LISTS folders)
    file(GLOB_RECURSE sources "${ROOT}/${folder}/*.hpp" "${ROOT}/${folder}/*.cpp")
    foreach(source IN LISTS sources)
        file(STRINGS "${source}" includes REGEX "^#include \"(util|fetch|storage|server|archive|crawler|cli)/")
        foreach(line IN LISTS includes)
            string(REGEX REPLACE "^#include \"([^\"]*)/[^/\"]*\".*" "\\1" target "${line}")
            if(target STREQUAL folder)
                continue()
            endif()
            list(FIND allowed_${folder} "${target}" found)
            if(found EQUAL -1)
                file(RELATIVE_PATH rel "${ROOT}" "${source}")
                list(APPEND violations "${rel}: ${line} (${folder} may include: ${allowed_${folder}})")
            endif()
        endforeach()
    endforeach()
endforeach()

# crawler/ holds only its sub-libraries: a source directly under it would belong to none.
file(GLOB stray "${ROOT}/crawler/*.cpp" "${ROOT}/crawler/*.hpp")
foreach(source IN LISTS stray)
    list(APPEND violations "${source}: crawler/ holds sub-folders only")
endforeach()

if(violations)
    list(JOIN violations "\n  " text)
    message(FATAL_ERROR "layering violations:\n  ${text}")
endif()
message(STATUS "layering: every include follows the rule")
