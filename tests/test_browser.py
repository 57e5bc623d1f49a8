"""The JupyterLab extension in a real browser: Debian Chromium driven by Python Playwright.

JupyterLab runs on a free loopback port with throw-away settings. A notebook executed beforehand
by nbclient is opened with no kernel and its rendered report is compared with the report JSON
saved in it; then the same cells run live, and the palette, menu and context-menu commands are
used. A trusted notebook shows the live widget panel, and the report instead once its kernel
restarts or when it is reopened with a new kernel. ``scripts/ensure_chromium.sh`` installs
Chromium (apt); without one the module is skipped. Screenshots go to ``$RAI_NB_SCREENSHOTS``
(default: a temporary folder), always for the light and dark report and for any failing test.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import rai_nb
from rai_nb.render import REPORT_MIME, format_value


def _chromium() -> str | None:
    candidates = [os.environ.get("RAI_NB_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser",
                  shutil.which("chromium"), shutil.which("chromium-browser")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


CHROMIUM = _chromium()
if CHROMIUM is None:
    pytest.skip("Chromium not found (run scripts/ensure_chromium.sh, i.e. apt-get install chromium, "
                "or set RAI_NB_CHROMIUM)", allow_module_level=True)

from playwright.sync_api import Page, sync_playwright  # noqa: E402  (only once Chromium exists)

#: The cells of the audited notebook. Executed by nbclient for the saved-notebook checks and run
#: live in JupyterLab; the checks need only that the last cell displays an audit.
REPORT_CELLS = [
    "import rai_nb\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "compas = rai_nb.load_compas()\n"
    "features = ['age', 'priors_count', 'juv_fel_count']\n"
    "train, test_df = compas.iloc[:4000], compas.iloc[4000:]\n"
    "model = LogisticRegression().fit(train[features], train['two_year_recid'])",
    "%load_ext rai_nb\n"
    "%audit model test_df --target two_year_recid --sensitive race,sex --sample 100 --n-boot 20",
]
#: A notebook of the user's own names, and the cell "Insert %audit Cell" fills in from them
#: (labextension/src/auditcell.ts): the only model and frame, the last column as the target,
#: the columns named like sensitive attributes.
NAMES_CELL = ("import pandas as pd\n"
              "from sklearn.linear_model import LogisticRegression\n"
              "applicants = pd.DataFrame({'age': [25, 40, 33, 51], 'income_k': [30, 80, 45, 60],\n"
              "                           'sex': ['F', 'M', 'F', 'M'], 'approved': [0, 1, 0, 1]})\n"
              "scorer = LogisticRegression().fit(applicants[['age', 'income_k']], "
              "applicants['approved'])")
FILLED_AUDIT = "%load_ext rai_nb\n%audit scorer applicants --target approved --sensitive age,sex"
#: The what-if notebook: a pipeline with a categorical column, one row by its label.
WHATIF_MODEL = ("import rai_nb\n"
                "from sklearn.compose import make_column_transformer\n"
                "from sklearn.linear_model import LogisticRegression\n"
                "from sklearn.pipeline import make_pipeline\n"
                "from sklearn.preprocessing import OneHotEncoder, StandardScaler\n"
                "compas = rai_nb.load_compas()\n"
                "features = ['age', 'priors_count', 'juv_fel_count', 'sex']\n"
                "train, test_df = compas.iloc[:4000], compas.iloc[4000:]\n"
                "encode = make_column_transformer((OneHotEncoder(), ['sex']),\n"
                "                                 remainder=StandardScaler())\n"
                "model = make_pipeline(encode, LogisticRegression())\n"
                "model.fit(train[features], train['two_year_recid'])")
WHATIF_ROW, WHATIF_AGE = 4321, 70
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
EXTENSION = "rai-nb-jupyterlab"
TIMEOUT_MS = 60_000
#: How long the extension lets a widget panel take before it shows the report
#: (WIDGET_GRACE_MS in labextension/src/renderer.ts).
WIDGET_GRACE_MS = 3_000


#: Smallest contrast of text against its background (WCAG 2.x AA for normal text).
MIN_CONTRAST = 4.5
THEMES = (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark"))
#: Contrast, clipping and overflow checks run in the page on an output.
LAYOUT_JS = (Path(__file__).parent / "browser_layout.js").read_text(encoding="utf-8")


def _layout_problems(root, panels: str, where: str) -> list[str]:
    """Low contrast, clipped labels and overflowing ``panels`` within ``root``
    (see :data:`LAYOUT_JS`), each prefixed with ``where``."""
    found = root.evaluate(LAYOUT_JS, [panels, MIN_CONTRAST])
    return [f"{where}: {kind} {item}" for kind, items in found.items() for item in items]


def _set_theme(page: Page, theme: str) -> None:
    """Switch JupyterLab's theme and wait until its stylesheet applies."""
    variable = "() => getComputedStyle(document.body).getPropertyValue('--jp-layout-color0')"
    before = page.evaluate(variable)
    current = page.evaluate("() => document.body.dataset.jpThemeName")
    _run_command(page, "apputils:change-theme", {"theme": theme})
    page.wait_for_function("t => document.body.dataset.jpThemeName === t", arg=theme)
    if current != theme:  # the new stylesheet applies a moment after the attribute changes
        page.wait_for_function(f"b => ({variable})() !== b", arg=before)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _notebook(cells: list[str]) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    return notebook


def _lab_env(root: Path) -> dict:
    """Throw-away Jupyter dirs; the checkout's built extension first when there is one."""
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR",
                 "JUPYTER_RUNTIME_DIR"):
        env[name] = str(root / name.lower())
    settings = root / "jupyterlab_settings_dir" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    built = Path(rai_nb.__file__).parent / "labextension"
    if (built / "package.json").exists():  # a source checkout: test what `jlpm build` just made
        (root / "jupyter_path" / "labextensions").mkdir(parents=True)
        (root / "jupyter_path" / "labextensions" / EXTENSION).symlink_to(built)
        env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(root / "jupyter_path"),
                                                            env.get("JUPYTER_PATH")]))
    return env


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(base URL, notebook folder, the saved audit report) of a running JupyterLab."""
    root = tmp_path_factory.mktemp("lab")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    port = _free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
               "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", "--ServerApp.token=",
               "--ServerApp.password=", f"--ServerApp.root_dir={notebooks}",
               "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (root / "server.log").open("w")
    server = subprocess.Popen(command, env=_lab_env(root), stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        saved = _notebook(REPORT_CELLS)  # executes while the server starts
        NotebookClient(saved, timeout=120, kernel_name="python3").execute()
        report = next(o["data"][REPORT_MIME] for o in saved.cells[-1].outputs
                      if REPORT_MIME in o.get("data", {}))
        # No kernelspec or language: JupyterLab asks which kernel, and the test answers none.
        del saved.metadata["kernelspec"], saved.metadata["language_info"]
        nbformat.write(saved, notebooks / "saved.ipynb")
        nbformat.write(_notebook(REPORT_CELLS), notebooks / "live.ipynb")
        base = f"http://127.0.0.1:{port}"
        _wait_for_server(base, server, root / "server.log")
        yield base, notebooks, report
    finally:
        _stop(server, f"http://127.0.0.1:{port}")
        log.close()


def _stop(server: subprocess.Popen, base: str) -> None:
    """Shut down the server's kernels (each in a process group of its own), then the server."""
    try:
        for kernel in _get_json(f"{base}/api/kernels"):
            request = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}", method="DELETE")
            urllib.request.urlopen(request, timeout=10).close()
    except OSError:
        pass  # the server is not answering: SIGTERM below still asks it to stop its kernels
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)  # the server and anything in its session
        server.wait(timeout=10)


def _wait_for_server(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited:\n{log.read_text()[-3000:]}")
        try:
            _get_json(f"{base}/api/status")
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail("JupyterLab did not start within 60 s")


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = os.environ.get("RAI_NB_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        yield page
        context.close()


@pytest.fixture
def page(browser_page, screenshots, request) -> Page:
    """The shared page; a screenshot is saved when the test fails."""
    failed = request.session.testsfailed
    yield browser_page
    if request.session.testsfailed > failed:
        shot = screenshots / f"failed_{request.node.name}.png"
        browser_page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failure: {shot}")


def _open(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/lab/tree/{name}?reset")
    page.wait_for_selector(".jp-NotebookPanel")


def _saved_report(page: Page, base: str):
    """The report in the saved notebook, opened with no kernel (once per page)."""
    root = page.locator(".rai-nb-report").first
    if not page.url.startswith(f"{base}/lab/tree/saved.ipynb") or not root.is_visible():
        _open(page, base, "saved.ipynb")
        page.locator(".jp-Dialog").get_by_role("button", name="No Kernel").click()
        root.wait_for()
    return root


def _run_command(page: Page, command: str, args: dict | None = None, timeout_ms: int = 30_000):
    """Run a JupyterLab command; fail, rather than hang, if it has not finished in time."""
    return page.evaluate(
        """([c, a, t]) => Promise.race([
            window.jupyterapp.commands.execute(c, a),
            new Promise((_, reject) => setTimeout(
                () => reject(new Error(`command ${c} did not finish in ${t} ms`)), t)),
        ])""", [command, args or {}, timeout_ms])


def _shown(value) -> str:
    """A report JSON cell as rai_nb.render prints the value it came from."""
    special = {None: "–", "inf": "∞", "-inf": "−∞"}
    return special[value] if value in special else format_value(value)


def _rendered_rows(table) -> list[list[str]]:
    """Each body cell's text, without the interval shown beside a value."""
    return table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.children, c => Array.from(c.childNodes).filter("
        "n => !(n.classList && n.classList.contains('rai-nb-interval')))"
        ".map(n => n.textContent).join('')))")


def _section(report: dict, title: str) -> dict:
    return next(s for s in report["sections"] if s["title"] == title)


def test_saved_audit_renders_without_a_kernel(lab, page, screenshots):
    base, _, report = lab
    root = _saved_report(page, base)
    assert _get_json(f"{base}/api/kernels") == []
    assert root.locator(".rai-nb-title").first.text_content() == report["title"]

    overview = _section(report, "Overview")["table"]
    rows = _rendered_rows(root.locator(".rai-nb-tabpanel").first.locator("table").first)
    assert rows == [[_shown(v) for v in (*r["index"], *r["values"])] for r in overview["rows"]][:20]

    root.get_by_role("tab", name="Fairness").click()
    bias = next(p for p in report["parts"] if p["kind"] == "bias")
    by_group = _section(bias, "Metrics by group")["table"]
    panel = root.locator(".rai-nb-tabpanel[data-kind=bias]")
    assert panel.is_visible()
    rows = _rendered_rows(panel.locator("table").first)
    assert rows == [[_shown(v) for v in (*r["index"], *r["values"])] for r in by_group["rows"]][:20]
    assert page.evaluate("() => window.__rai_nb_xss") is None


def test_report_follows_the_theme(lab, page, screenshots):
    """Every tab of the saved report, light and dark: readable text (WCAG AA), no label outside
    its chart, nothing wider than the output."""
    root = _saved_report(page, lab[0])
    colours = {}
    page.set_viewport_size({"width": 1280, "height": 2400})  # the whole report in one shot
    tabs = root.locator(".rai-nb-tabbar [role=tab]").all_text_contents()
    assert tabs[0] == "Overview" and "Fairness" in tabs
    problems = []
    for theme, name in THEMES:
        _set_theme(page, theme)
        colours[name] = root.locator(".rai-nb-title").first.evaluate("e => getComputedStyle(e).color")
        for tab in tabs:
            root.get_by_role("tab", name=tab).click()
            problems += _layout_problems(root, ".rai-nb-report, .rai-nb-tabpanel", f"{name} {tab}")
            root.screenshot(path=str(screenshots / f"rai_nb_report_{name}_{_slug(tab)}.png"))
    _set_theme(page, "JupyterLab Light")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert colours["light"] != colours["dark"]
    assert not problems, "\n".join(problems)


def _slug(tab: str) -> str:
    return tab.lower().replace(" ", "_")


def test_export_model_card_from_the_output_context_menu(lab, page):
    base, notebooks, report = lab
    root = _saved_report(page, base)
    root.locator(".rai-nb-title").first.click(button="right")
    page.locator(".lm-Menu-itemLabel", has_text="Export Model Card as Markdown").click()
    page.locator(".jp-FileEditor").wait_for()
    card = (notebooks / "MODEL_CARD.md").read_text(encoding="utf-8")
    title = next(p for p in report["parts"] if p["kind"] == "model_card")["title"]
    assert card.startswith(f"# {title}\n")
    assert "## Quantitative analyses" in card and "| race | sex |" in card


def test_live_audit_shows_the_widget_panel(lab, page, screenshots):
    base, _, _ = lab
    _open(page, base, "live.ipynb")
    page.locator("#jp-main-statusbar", has_text="| Idle").wait_for()
    _run_command(page, "notebook:run-all-cells")
    tabs = page.locator(".jp-OutputArea .widget-tab")
    tabs.wait_for(timeout=120_000)
    titles = tabs.locator(".lm-TabBar-tabLabel").all_text_contents()
    assert titles[:2] == ["Overview", "Fairness"] and "Model card" in titles
    assert page.locator(".jp-OutputArea", has_text="Error displaying widget").count() == 0
    # One view of the output: the panel, with the saved report beside it hidden.
    assert page.locator(".rai-nb-RenderedReport[data-rai-nb-shows=widget]").count() == 1
    assert page.locator(".rai-nb-report").filter(visible=True).count() == 0
    tabs.first.screenshot(path=str(screenshots / "audit_panel.png"))  # the README's picture
    panel, problems = tabs.first, []
    page.set_viewport_size({"width": 1280, "height": 2400})  # whole tabs in the screenshots
    for theme, name in THEMES:
        _set_theme(page, theme)
        for i, title in enumerate(titles):
            panel.locator(".lm-TabBar-tab").nth(i).click()
            content = panel.locator(".widget-tab-contents > .lm-Widget:not(.lm-mod-hidden)").first
            content.locator(".widget-html-content >> visible=true").first.wait_for()
            page.wait_for_timeout(150)  # the tab's widgets render after its models arrive
            problems += _layout_problems(
                content, ".widget-box, .widget-html, .widget-html-content, .rai-ui, .rai-nb",
                f"live {name} {title}")
            panel.screenshot(path=str(screenshots / f"audit_panel_{name}_{_slug(title)}.png"))
    _set_theme(page, "JupyterLab Light")
    page.set_viewport_size({"width": 1280, "height": 900})
    panel.locator(".lm-TabBar-tab").first.click()
    assert not problems, "\n".join(problems)


def _output_shows(page: Page, shown: str, timeout: float = TIMEOUT_MS):
    """The audit output once it shows ``shown`` (``widget`` or ``report``)."""
    output = page.locator(f".jp-OutputArea .rai-nb-RenderedReport[data-rai-nb-shows={shown}]")
    output.wait_for(timeout=timeout)
    return output


def _assert_report_shown(page: Page, report: dict) -> None:
    """The output shows ``report`` (its overview table), no widget panel and no widget error."""
    output = _output_shows(page, "report")
    root = output.locator(".rai-nb-report")
    root.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert root.locator(".rai-nb-title").first.text_content() == report["title"]
    overview = _section(report, "Overview")["table"]
    rows = _rendered_rows(root.locator(".rai-nb-tabpanel").first.locator("table").first)
    assert rows == [[_shown(v) for v in (*r["index"], *r["values"])] for r in overview["rows"]][:20]
    assert page.locator(".jp-OutputArea .widget-tab").filter(visible=True).count() == 0
    # Within the audit's own output.
    for text in ("model not found", "Error displaying widget", "Loading widget"):
        assert output.get_by_text(text).filter(visible=True).count() == 0, text


def _session_call(page: Page, method: str) -> None:
    """Call ``currentWidget.sessionContext.<method>()`` without waiting on its promise (an
    evaluate has no timeout of its own)."""
    page.evaluate(f"() => {{ window.jupyterapp.shell.currentWidget.sessionContext.{method}(); }}")


def test_live_panel_gives_way_to_the_report_after_a_restart(lab, page, screenshots):
    """Trusted notebook: the panel while its kernel lives; the report after a restart, and after
    reopening with a new kernel (jupyterlab-manager: "model not found")."""
    base, notebooks, _ = lab
    path = notebooks / "restart.ipynb"
    nbformat.write(_notebook(REPORT_CELLS), path)
    _open(page, base, "restart.ipynb")
    page.locator("#jp-main-statusbar", has_text="| Idle").wait_for()
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.locator(".jp-OutputArea .widget-tab").wait_for(state="visible", timeout=120_000)
    _output_shows(page, "widget")
    assert page.locator(".rai-nb-report").filter(visible=True).count() == 0

    page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:save'); }")
    deadline = time.monotonic() + 30
    while not (path.exists() and REPORT_MIME in path.read_text(encoding="utf-8")):
        assert time.monotonic() < deadline, "the notebook was not saved within 30 s"
        time.sleep(0.2)
    saved = nbformat.read(path, as_version=4)
    (output,) = saved.cells[-1].outputs  # the progress bar's output became the report's
    assert {REPORT_MIME, "text/html", "application/vnd.rai-nb.widget-view+json"} <= \
        set(output["data"])
    assert "application/vnd.jupyter.widget-view+json" not in output["data"]
    report = output["data"][REPORT_MIME]

    _session_call(page, "restartKernel")
    _assert_report_shown(page, report)
    page.locator("#jp-main-statusbar", has_text="| Idle").wait_for()

    # Reopened later: a new kernel, which has no widget models.
    _session_call(page, "shutdown")
    deadline = time.monotonic() + 30
    while any(s["path"].endswith("restart.ipynb") for s in _get_json(f"{base}/api/sessions")):
        assert time.monotonic() < deadline, "the kernel did not shut down within 30 s"
        time.sleep(0.2)
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    _open(page, base, "restart.ipynb")
    page.locator("#jp-main-statusbar", has_text="| Idle").wait_for()
    trusted = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.model.cells.get(1).trusted")
    assert trusted is True  # so the widget view would outrank a plain report renderer
    # jupyterlab-manager looks for the model for 2 s before it gives up; the report must stay.
    page.wait_for_timeout(WIDGET_GRACE_MS + 1000)
    _assert_report_shown(page, report)
    page.locator(".rai-nb-RenderedReport").last.screenshot(
        path=str(screenshots / "audit_after_restart.png"))


def test_palette_inserts_an_audit_cell(lab, page):
    """The inserted cell names the notebook's own model, DataFrame and columns."""
    base, notebooks, _ = lab
    nbformat.write(_notebook([NAMES_CELL]), notebooks / "names.ipynb")
    _open(page, base, "names.ipynb")
    page.locator("#jp-main-statusbar", has_text="| Idle").wait_for()
    _run_command(page, "notebook:run-all-cells")
    page.locator(".jp-InputPrompt", has_text="[1]").wait_for()
    count = "() => window.jupyterapp.shell.currentWidget.content.widgets.length"
    before = page.evaluate(count)
    page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputPrompt").click()
    page.keyboard.press("Control+Shift+C")
    page.locator("#command-palette input").fill("Insert %audit Cell")
    page.keyboard.press("Enter")
    page.wait_for_function(f"n => ({count})() === n + 1", arg=before)
    source = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.activeCell.model.sharedModel.getSource()")
    assert source == FILLED_AUDIT
    index = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex")
    assert index == 1


def test_menu_opens_the_tutorial(lab, page):
    base, notebooks, _ = lab
    if not page.url.startswith(f"{base}/lab"):
        _open(page, base, "live.ipynb")
    page.locator(".lm-MenuBar-itemLabel", has_text="Responsible AI").click()
    items = page.locator(".lm-Menu-itemLabel").all_text_contents()
    assert {"Insert %audit Cell", "Export Model Card as Markdown", "Open rai_nb Tutorial"} <= set(items)
    page.locator(".lm-Menu-itemLabel", has_text="Open rai_nb Tutorial").click()
    page.locator(".lm-TabBar-tabLabel", has_text="rai_nb_tutorial.ipynb").wait_for()
    page.locator(".Toastify__toast", has_text="Wrote the rai_nb tutorial to rai_nb_tutorial.ipynb") \
        .wait_for()
    tutorial = nbformat.read(notebooks / "rai_nb_tutorial.ipynb", as_version=4)
    nbformat.validate(tutorial)
    assert any(c.source.startswith("%load_ext rai_nb\n%audit ") for c in tutorial.cells)


def test_hostile_reports_never_break_the_notebook(lab, page, screenshots):
    """Keys named like object properties render; a malformed report shows a readable box; the
    notebook's other cells stay visible either way."""
    import copy

    base, notebooks, report = lab
    hostile = copy.deepcopy(report)
    bias = next(p for p in hostile["parts"] if p["kind"] == "bias")
    table = _section(bias, "Metrics by group")["table"]
    table["columns"][:3] = ["constructor", "__proto__", "toString"]
    table["rows"][0]["index"] = ["hasOwnProperty"]
    broken = copy.deepcopy(report)
    broken["sections"][0]["table"]["rows"][0] = None
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Cell before the reports"),
        nbformat.v4.new_code_cell("", outputs=[
            nbformat.v4.new_output("display_data", data={REPORT_MIME: hostile}),
            nbformat.v4.new_output("display_data", data={REPORT_MIME: broken})]),
        nbformat.v4.new_markdown_cell("Cell after the reports"),
    ])
    nbformat.write(notebook, notebooks / "hostile.ipynb")
    _open(page, base, "hostile.ipynb")
    page.locator(".jp-Dialog").get_by_role("button", name="No Kernel").click()
    rendered = page.locator(".jp-RenderedMarkdown p")
    rendered.filter(has_text="Cell after the reports").wait_for()
    assert rendered.filter(has_text="Cell before the reports").is_visible()
    reports = page.locator(".rai-nb-report")
    reports.nth(1).wait_for()
    assert "rai-nb-error" not in (reports.nth(0).get_attribute("class") or "")
    reports.nth(0).get_by_role("tab", name="Fairness").click()
    headers = reports.nth(0).locator(".rai-nb-tabpanel[data-kind=bias] thead th").all_text_contents()
    assert {"constructor", "__proto__", "toString"} <= set(headers)
    assert reports.nth(1).text_content().startswith("Cannot show this rai_nb report: ")
    page.screenshot(path=str(screenshots / "hostile_reports.png"), full_page=True)


def test_whatif_editor_updates_the_prediction_live(lab, page, screenshots):
    """%whatif in a live kernel: typing a new age into the row's editor shows the prediction the
    model gives the edited row; compare to original; light and dark stay readable."""
    base, notebooks, _ = lab
    cells = [WHATIF_MODEL, f"%load_ext rai_nb\n%whatif model test_df --row {WHATIF_ROW}"]
    nbformat.write(_notebook(cells), notebooks / "whatif.ipynb")
    namespace: dict = {}
    exec(WHATIF_MODEL, namespace)  # the same model here, to know what the edit must show
    row = namespace["test_df"].loc[[WHATIF_ROW], namespace["features"]]
    before, after = (namespace["model"].predict_proba(r)[0, 1]
                     for r in (row, row.assign(age=WHATIF_AGE)))
    _open(page, base, "whatif.ipynb")
    page.locator("#jp-main-statusbar", has_text="| Idle").wait_for()
    _run_command(page, "notebook:run-all-cells")
    output = _output_shows(page, "widget", timeout=120_000)
    shown = output.locator(".widget-html-content", has_text="Base value").first
    shown.filter(has_text=f"probability {before:.4f}").wait_for()
    age = output.locator(".widget-inline-hbox:has(> label.widget-label:text-is('age')) input")
    age.fill(str(WHATIF_AGE))
    age.press("Enter")
    shown.filter(has_text=f"probability {after:.4f}").wait_for()
    assert f"{after:.4f}" != f"{before:.4f}"
    output.get_by_role("button", name="compare to original").click()
    output.get_by_text("Compared to the original row").wait_for()
    assert output.locator("svg").count() >= 3  # the live waterfall, then original and edited
    problems = []
    page.set_viewport_size({"width": 1280, "height": 2000})
    for theme, name in THEMES:
        _set_theme(page, theme)
        problems += _layout_problems(output, ".widget-box, .widget-html, .widget-html-content, "
                                     ".rai-ui", f"what-if {name}")
        output.screenshot(path=str(screenshots / f"whatif_{name}.png"))
    _set_theme(page, "JupyterLab Light")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert not problems, "\n".join(problems)
