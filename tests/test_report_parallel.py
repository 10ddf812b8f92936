"""The HTML edition renders its notebook pages two at a time where that is safe, with the same result."""

import subprocess
import sys

_PROBE = """
import os, time
from microcalc.pipeline.report_pages import render_pages

class Edition:
    def render(self, nb, href, title, kind):
        time.sleep(0.05)
        return f"{href}|{title}|{kind}|{nb}|{os.getpid()}"

jobs = [(f"nb{k}", f"{k:02d}.html", f"Page {k}") for k in range(6)]
pages = render_pages(Edition(), jobs)
pids = {text.rsplit("|", 1)[1] for _, text in pages}
print(all(text.startswith(f"{href}|{title}|notebook|{nb}|") for (nb, href, title), (h, text) in zip(jobs, pages)))
print(len(pages) == len(jobs) and [h for h, _ in pages] == [href for _, href, _ in jobs])
print(str(os.getpid()) not in pids if (os.cpu_count() or 1) >= 2 else True)
"""


def test_pages_rendered_in_forked_processes_come_back_complete_and_in_order():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    complete, in_order, forked = out.stdout.split()
    assert complete == in_order == "True", out.stderr
    assert forked == "True", "on two cores the pages are rendered by forked processes"


def test_a_threaded_process_renders_one_page_after_another():
    import threading

    from microcalc.pipeline.report_pages import render_pages

    class Edition:
        def render(self, nb, href, title, kind):
            return f"{href}|{threading.get_ident()}"

    me = threading.get_ident()
    with_thread = threading.Thread(target=threading.Event().wait, args=(1,), daemon=True)
    with_thread.start()  # this process now runs two threads: no fork
    pages = render_pages(Edition(), [("a", "1.html", "A"), ("b", "2.html", "B")])
    assert pages == [("1.html", f"1.html|{me}"), ("2.html", f"2.html|{me}")]
