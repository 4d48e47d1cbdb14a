#!/usr/bin/python3
# The web panel in headless Chromium (python3-selenium, chromium-driver):
# log in, create a job, see it at the datacenter, node and guest levels,
# edit its schedule (a bad one is refused by the server), schedule it
# now, read its log, remove it. Screenshots go to ARTIFACTS.
#   panel-browser.py URL TOKEN_ID SECRET NODE ARTIFACTS
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from selenium.common.exceptions import StaleElementReferenceException

url, user, secret, node, art = sys.argv[1:6]
os.makedirs(art, exist_ok=True)
fails = 0


def check(what, cond):
    global fails
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        fails += 1


opts = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900",
          "--user-data-dir=" + os.path.join(art, "profile"), "--no-first-run", "--disable-extensions"):
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
drv.set_page_load_timeout(20)
# the panel re-renders its table on every refresh: an element found a
# moment ago may be gone, so waits and row lookups retry on a stale one
wait = WebDriverWait(drv, 30, ignored_exceptions=(StaleElementReferenceException,))
E = lambda id: drv.find_element(By.ID, id)


def shot(name):
    drv.save_screenshot(os.path.join(art, name + ".png"))


def row(jid):
    return drv.find_elements(By.CSS_SELECTOR, 'tr[data-id="%s"]' % jid)


def unstale(fn):
    for _ in range(50):
        try:
            return fn()
        except StaleElementReferenceException:
            time.sleep(0.1)
    return fn()


def cell(jid, cls):
    return unstale(lambda: row(jid)[0].find_element(By.CSS_SELECTOR, "td." + cls).text)


def in_row(jid, css):
    """The element css of job jid's row, as a function for unstale()."""
    return lambda: row(jid)[0].find_element(By.CSS_SELECTOR, css)


def click_in_row(jid, css):
    unstale(lambda: in_row(jid, css)().click())


try:
    drv.get(url)
    wait.until(lambda d: E("login").is_displayed())
    shot("01-login")
    E("login-user").send_keys(user)
    E("login-pass").send_keys("wrong")
    E("login-btn").click()
    wait.until(lambda d: "login failed" in E("msg").text)
    check("a wrong secret is refused", not E("jobs").is_displayed())
    E("login-pass").clear()
    E("login-pass").send_keys(secret)
    E("login-btn").click()
    wait.until(lambda d: E("jobs").is_displayed())
    check("logged in", E("nav").is_displayed())
    check("the secret is not kept in the form", E("login-pass").get_attribute("value") == "")

    E("btn-add").click()
    wait.until(lambda d: E("dlg-edit").is_displayed())
    E("f-guest").send_keys("100")
    Select(E("f-target")).select_by_value("pve2")
    E("f-schedule").send_keys("*/5")
    E("f-rate").send_keys("25")
    E("f-comment").send_keys("from the panel")
    shot("02-add-dialog")
    E("f-save").click()
    wait.until(lambda d: row("100-0"))
    check("datacenter view lists the new job", cell("100-0", "target") == "pve2" and
          cell("100-0", "schedule") == "*/5" and cell("100-0", "enabled") == "Yes")
    shot("03-datacenter")

    E("nav-node").click()
    wait.until(lambda d: ("Node " + node) in E("view-title").text and row("100-0"))
    check("node view lists the job with its state", cell("100-0", "fail-count") != "")
    shot("04-node")

    Select(E("nav-guest")).select_by_value("100")
    wait.until(lambda d: "Guest 100" in E("view-title").text and row("100-0"))
    check("guest view lists the job", len(drv.find_elements(By.CSS_SELECTOR, "#job-rows tr")) == 1)
    shot("05-guest")

    click_in_row("100-0", ".act-edit")
    wait.until(lambda d: E("dlg-edit").is_displayed())
    check("edit: target fixed", not E("f-target").is_enabled())
    E("f-schedule").clear()
    E("f-schedule").send_keys("bogus")
    E("f-save").click()
    wait.until(lambda d: E("edit-error").text != "")
    check("edit: the server refuses a bad schedule", "invalid calendar event 'bogus'" in E("edit-error").text)
    shot("06-edit-error")
    E("f-schedule").clear()
    E("f-schedule").send_keys("*/10")
    E("f-save").click()
    wait.until(lambda d: not E("dlg-edit").is_displayed() and row("100-0") and
               cell("100-0", "schedule") == "*/10")
    check("edit: schedule changed", cell("100-0", "schedule") == "*/10")

    click_in_row("100-0", ".act-sched")
    wait.until(lambda d: "next scheduler tick" in E("msg").text)
    check("schedule now", True)

    # the daemon runs it (it fails: no storage in this test) and logs it
    text = ""
    end = time.monotonic() + 40
    while time.monotonic() < end:
        wait.until(lambda d: row("100-0"))
        click_in_row("100-0", ".act-log")
        wait.until(lambda d: E("dlg-log").is_displayed() and E("log-lines").text != "")
        text = E("log-lines").text
        if "end replication job" in text:
            break
        E("log-close").click()
        time.sleep(1)
        E("btn-refresh").click()
    check("the job log shows the run", "start replication job" in text and "end replication job" in text)
    shot("07-log")
    E("log-close").click()
    E("btn-refresh").click()
    wait.until(lambda d: row("100-0") and cell("100-0", "fail-count") not in ("", "-", "0"))
    check("the failure shows in the state column", "does not exist" in cell("100-0", "state"))
    shot("08-failed-state")

    drv.set_window_size(390, 844)
    time.sleep(0.5)
    shot("09-phone")
    check("phone: the table fits by scrolling, actions reachable",
          unstale(lambda: in_row("100-0", ".act-remove")().is_enabled()))
    drv.set_window_size(1400, 900)

    click_in_row("100-0", ".act-remove")
    wait.until(lambda d: E("dlg-remove").is_displayed())
    E("rm-force").click()
    shot("10-remove")
    E("rm-ok").click()
    wait.until(lambda d: not row("100-0"))
    check("removed", True)

    E("btn-logout").click()
    wait.until(lambda d: E("login").is_displayed())
    check("logged out", not E("jobs").is_displayed())
    drv.get(url)
    wait.until(lambda d: E("login").is_displayed())
    check("after a reload still logged out (the cookie is gone)", not E("jobs").is_displayed())
except Exception as e:  # a timeout names the step by the last "ok" line
    check("panel flow (%s: %s)" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""), False)
    try:
        shot("99-failure")
    except Exception:
        pass
finally:
    drv.quit()
sys.exit(1 if fails else 0)
