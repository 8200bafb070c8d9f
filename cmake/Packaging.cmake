# What `cmake --install` puts next to the binary on Linux (desktop entry, icons, AppStream
# metainfo) and how CPack turns that into packages: a .deb on Linux, NSIS/ZIP on Windows, a
# DragNDrop .dmg on macOS. The binary's own install rules (and the Windows/macOS Qt deployment)
# are in app/CMakeLists.txt.
include(GNUInstallDirs)

set(ECHOSCOPE_APP_ID "io.github.echoscope.echoscope" CACHE STRING
    "AppStream component id (reverse DNS), the name of the installed metainfo file")
set(ECHOSCOPE_HOMEPAGE "https://github.com/echoscope/echoscope" CACHE STRING
    "Project homepage, for the AppStream metainfo and the package's Homepage field")
set(ECHOSCOPE_SCREENSHOT_URL
    "https://raw.githubusercontent.com/echoscope/echoscope/main/docs/dashboard.png" CACHE STRING
    "Where software centres fetch the screenshot (docs/dashboard.png) from")
set(ECHOSCOPE_PACKAGE_MAINTAINER
    "Echoscope maintainers <maintainers@users.noreply.r-seed-9976343b.example>" CACHE STRING
    "Maintainer field of the Debian package")

if(APPLE)
    set_target_properties(echoscope PROPERTIES MACOSX_BUNDLE_GUI_IDENTIFIER "${ECHOSCOPE_APP_ID}")
elseif(UNIX)
    install(FILES "${PROJECT_SOURCE_DIR}/resources/echoscope.desktop"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/applications")
    install(FILES "${PROJECT_SOURCE_DIR}/resources/icons/echoscope.svg"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps")
    foreach(size 16 32 48 64 128 256)
        install(FILES "${PROJECT_SOURCE_DIR}/resources/icons/echoscope-${size}.png"
            DESTINATION "${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps"
            RENAME echoscope.png)
    endforeach()
    configure_file("${PROJECT_SOURCE_DIR}/resources/echoscope.metainfo.xml.in"
        "${PROJECT_BINARY_DIR}/${ECHOSCOPE_APP_ID}.metainfo.xml" @ONLY)
    install(FILES "${PROJECT_BINARY_DIR}/${ECHOSCOPE_APP_ID}.metainfo.xml"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/metainfo")
    # The README and the handbook, laid out as in the source tree so that their relative
    # links (the screenshots, the OpenAPI file, the pytest example) work in the installed copy too. Help > Handbook (F1)
    # opens docs/handbook/README.md there (MainWindow::handbookUrl()).
    set(_echoscope_doc "${CMAKE_INSTALL_DATADIR}/doc/echoscope")
    install(FILES "${PROJECT_SOURCE_DIR}/README.md" DESTINATION "${_echoscope_doc}")
    install(DIRECTORY "${PROJECT_SOURCE_DIR}/docs/handbook" DESTINATION "${_echoscope_doc}/docs"
        FILES_MATCHING PATTERN "*.md")
    install(DIRECTORY "${PROJECT_SOURCE_DIR}/docs/" DESTINATION "${_echoscope_doc}/docs"
        FILES_MATCHING PATTERN "*.png" PATTERN "*.yaml" PATTERN "*.py" PATTERN "handbook" EXCLUDE)
    install(FILES "${PROJECT_SOURCE_DIR}/benchmarks/README.md"
        "${PROJECT_SOURCE_DIR}/benchmarks/README-echo.md" DESTINATION "${_echoscope_doc}/benchmarks")
    install(FILES "${PROJECT_SOURCE_DIR}/translations/README.md"
        DESTINATION "${_echoscope_doc}/translations")
endif()

# CPack: `cpack --config build/CPackConfig.cmake` (or `cmake --build build --target package`).
set(CPACK_PACKAGE_NAME echoscope)
set(CPACK_PACKAGE_VENDOR "The Echoscope developers")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "TCP echo server with a live view of every client")
set(CPACK_PACKAGE_HOMEPAGE_URL "${ECHOSCOPE_HOMEPAGE}")
set(CPACK_PACKAGE_INSTALL_DIRECTORY Echoscope)
set(CPACK_PACKAGE_EXECUTABLES echoscope Echoscope) # Start-menu shortcut (NSIS)
set(CPACK_STRIP_FILES ON)
if(WIN32)
    set(CPACK_GENERATOR NSIS ZIP)
    set(CPACK_NSIS_MUI_ICON "${PROJECT_SOURCE_DIR}/resources/icons/echoscope.ico")
    set(CPACK_NSIS_INSTALLED_ICON_NAME "${CMAKE_INSTALL_BINDIR}\\\\echoscope.exe")
    set(CPACK_NSIS_DISPLAY_NAME Echoscope)
elseif(APPLE)
    set(CPACK_GENERATOR DragNDrop)
    set(CPACK_DMG_VOLUME_NAME Echoscope)
else()
    set(CPACK_GENERATOR DEB)
    set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # echoscope_0.1.0_amd64.deb
    set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${ECHOSCOPE_PACKAGE_MAINTAINER}")
    set(CPACK_DEBIAN_PACKAGE_SECTION net)
    set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
    set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${ECHOSCOPE_HOMEPAGE}")
    # The extended description; the synopsis is CPACK_PACKAGE_DESCRIPTION_SUMMARY.
    set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Echoscope echoes back whatever a TCP client sends and shows what that client
did on the wire: who connected, bytes and messages each way, message sizes and
why each connection ended. It frames messages as a stream, by half-close, by a
delimiter, by a length header or in fixed-size blocks, keeps memory bounded,
and runs either as a Qt dashboard or headless with text or JSON event lines.
It also contains a load generator (echoscope bench).")
    # dpkg-shlibdeps finds the Qt libraries the binary links, not the platform plugins Qt
    # loads at run time. On Debian 12 xcb and offscreen come with libqt6gui6, which only
    # recommends qt6-qpa-plugins (the others, e.g. vnc), and wayland is in qt6-wayland.
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "qt6-qpa-plugins")
    # qt6-translations-l10n: Qt's own texts (standard buttons, context menus) in the user's
    # language; Echoscope's own translations are compiled into the program.
    set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qt6-wayland, qt6-translations-l10n")
endif()
include(CPack)
