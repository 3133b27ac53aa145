# What `cmake --install` puts where, and the Debian package (`make deb`, CPack).
# The SANE backend goes where libsane looks for backends on this system, and its two
# configuration files where SANE keeps them, so that `scanimage -L` lists phieu:0.

pkg_get_variable(PHIEU_SANE_LIBDIR sane-backends libdir)
set(PHIEU_SANE_BACKEND_DIR "${PHIEU_SANE_LIBDIR}/sane" CACHE PATH
  "Where libsane loads backends from (pkg-config sane-backends libdir + /sane)")
set(PHIEU_SANE_CONF_DIR "/etc/sane.d" CACHE PATH "SANE's configuration folder")

install(TARGETS phieu RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/docs/phieu.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
if(TARGET sane-phieu)
  # Only libsane-phieu.so.1: libsane's dll backend opens that name, and nothing links it.
  install(TARGETS sane-phieu LIBRARY DESTINATION ${PHIEU_SANE_BACKEND_DIR} NAMELINK_SKIP)
  file(WRITE ${CMAKE_BINARY_DIR}/packaging/dll.d-phieu "# phieu's rehearsal scanner\nphieu\n")
  install(FILES ${CMAKE_BINARY_DIR}/packaging/dll.d-phieu DESTINATION ${PHIEU_SANE_CONF_DIR}/dll.d
    RENAME phieu)
  install(FILES ${CMAKE_SOURCE_DIR}/packaging/phieu.conf DESTINATION ${PHIEU_SANE_CONF_DIR})
endif()
file(GLOB PHIEU_FORMS ${CMAKE_SOURCE_DIR}/forms/*.form)
install(FILES ${PHIEU_FORMS} DESTINATION ${CMAKE_INSTALL_DOCDIR}/forms)
# The minutes' wording (built into the program) beside them: the file a province copies to
# word its own minutes (phieu report --wording FILE).
install(FILES ${CMAKE_SOURCE_DIR}/forms/minutes/vi.minutes
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/forms/minutes)
file(GLOB PHIEU_DOCS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${PHIEU_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The package: dependencies come from dpkg-shlibdeps (the libraries the binaries link),
# plus the fonts the ballots and the minutes are set in, which nothing links.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME phieu)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "phieu maintainers <phieu@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "count Vietnamese confidence ballots by optical mark recognition")
set(CPACK_PACKAGE_DESCRIPTION
  "phieu prints the ballots of a people's council's confidence vote, scans them through SANE, reads the marked boxes, sends unclear marks to two supervisors, and writes signed, verifiable totals and the minutes in Vietnamese.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION graphics)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fonts-dejavu-core, fonts-liberation2")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "sane-utils")
# The two files under /etc are the administrator's: dpkg keeps their edits on upgrade.
file(WRITE ${CMAKE_BINARY_DIR}/packaging/conffiles
  "${PHIEU_SANE_CONF_DIR}/dll.d/phieu\n${PHIEU_SANE_CONF_DIR}/phieu.conf\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/packaging/conffiles)
include(CPack)
