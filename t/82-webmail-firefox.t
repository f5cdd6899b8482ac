#!/usr/bin/python3
# t/81-webmail-browser.t again, in Debian's Firefox ESR instead of chromium
# (playwright-core over WebDriver BiDi; t/browser/lib.js says how it is
# kept off the network): the same steps, checks and IMAP checks after.
# Screenshots: t/artefacts/82-webmail-firefox.t/webmail.js/.
import os
import runpy

os.environ["MAILD_BROWSER"] = "firefox"
os.environ["MAILD_TEST_NAME"] = "82-webmail-firefox"
runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "81-webmail-browser.t"), run_name="__main__")
