// glassnet serve: draw a digit, send it to /api/predict, show the prediction and every layer.
"use strict";

const SEND_SIDE = 140; // the drawing is sent at this size; the server makes it 28x28 (imaging.to_mnist)
const STROKE = 20; // pen width on the 280 px pad
const THROTTLE_MS = 100; // at most one prediction per this while drawing

const pad = document.getElementById("pad");
const padContext = pad.getContext("2d");
const statusLine = document.getElementById("status");
let drawing = false;
let drawn = false;
let last = null;
let timer = null;
let inFlight = null;

function setState(state, message) {
  document.body.dataset.state = state;
  statusLine.textContent = message;
}

function clearPad() {
  padContext.fillStyle = "#fff";
  padContext.fillRect(0, 0, pad.width, pad.height);
  drawn = false;
  if (inFlight) inFlight.abort();
  inFlight = null;
  clearTimeout(timer);
  timer = null;
  document.getElementById("prediction").textContent = "\u2013";
  document.getElementById("confidence").textContent = "";
  document.getElementById("layers").replaceChildren();
  renderBars(null, -1, true);
  const input = document.getElementById("input").getContext("2d");
  input.clearRect(0, 0, 28, 28);
  setState("empty", "Draw a digit with the mouse, a pen or a finger.");
}

function padPoint(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * (pad.width / box.width), (event.clientY - box.top) * (pad.height / box.height)];
}

function stroke(from, to) {
  padContext.strokeStyle = "#000";
  padContext.lineWidth = STROKE;
  padContext.lineCap = "round";
  padContext.lineJoin = "round";
  padContext.beginPath();
  padContext.moveTo(from[0], from[1]);
  padContext.lineTo(to[0], to[1]);
  padContext.stroke();
  drawn = true;
}

pad.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  drawing = true;
  last = padPoint(event);
  stroke(last, last);
  schedule();
});
pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  const point = padPoint(event);
  stroke(last, point);
  last = point;
  schedule();
});
for (const type of ["pointerup", "pointercancel"]) {
  pad.addEventListener(type, () => {
    if (!drawing) return;
    drawing = false;
    clearTimeout(timer);
    timer = null;
    predict();
  });
}
document.getElementById("clear").addEventListener("click", clearPad);

function schedule() {
  if (timer === null) {
    timer = setTimeout(() => { timer = null; predict(); }, THROTTLE_MS);
  }
}

function drawingPixels() {
  const small = document.createElement("canvas");
  small.width = small.height = SEND_SIDE;
  const context = small.getContext("2d");
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = "high";
  context.drawImage(pad, 0, 0, SEND_SIDE, SEND_SIDE);
  const rgba = context.getImageData(0, 0, SEND_SIDE, SEND_SIDE).data;
  const pixels = new Array(SEND_SIDE * SEND_SIDE);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rgba[4 * i];
  return pixels;
}

async function predict() {
  if (!drawn) return;
  if (inFlight) inFlight.abort();
  const controller = new AbortController();
  inFlight = controller;
  setState("busy", "Reading\u2026");
  try {
    const response = await fetch("/api/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(withEpoch({ width: SEND_SIDE, height: SEND_SIDE, pixels: drawingPixels() })),
      signal: controller.signal,
    });
    const result = await response.json();
    if (controller !== inFlight) return;
    inFlight = null;
    if (!response.ok) {
      setState("error", result.error || `error ${response.status}`);
      return;
    }
    render(result);
    setState("idle", `Read in ${result.milliseconds.toFixed(1)} ms on the server.`);
  } catch (error) {
    if (error.name === "AbortError") return;
    if (controller === inFlight) inFlight = null;
    setState("error", `No answer from the server: ${error.message}`);
  }
}

function render(result) {
  window.glassnetLast = result; // the latest answer, for the browser console
  const values = result.probabilities || result.scores;
  document.getElementById("prediction").textContent = result.class ?? String(result.prediction);
  document.getElementById("confidence").textContent = result.probabilities
    ? `${(100 * values[result.prediction]).toFixed(1)}% sure` : "scores (the model has no softmax)";
  renderBars(values, result.prediction, result.probabilities !== null);
  renderInput(result.input);
  renderLayers(result.layers);
}

function renderBars(values, best, isProbability) {
  const bars = document.getElementById("bars");
  if (bars.children.length === 0) {
    for (let k = 0; k < 10; k++) {
      const row = document.createElement("div");
      row.className = "bar";
      row.innerHTML = '<span class="label"></span><span class="track"><span class="fill"></span></span><span class="value"></span>';
      row.querySelector(".label").textContent = String(k);
      bars.appendChild(row);
    }
  }
  const full = !values || isProbability ? 1 : Math.max(...values, 1e-9); // scores: the highest fills the bar
  Array.from(bars.children).forEach((row, k) => {
    const value = values ? values[k] : 0;
    row.classList.toggle("best", k === best);
    row.querySelector(".fill").style.width = `${Math.max(0, (100 * value) / full)}%`;
    row.querySelector(".value").textContent = values ? value.toFixed(3) : "";
  });
}

function grayCanvas(rows, scale) {
  const height = rows.length;
  const width = rows[0].length;
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const level = Math.round(rows[y][x] * scale);
      const i = 4 * (y * width + x);
      image.data[i] = image.data[i + 1] = image.data[i + 2] = level;
      image.data[i + 3] = 255;
    }
  }
  context.putImageData(image, 0, 0);
  return canvas;
}

function renderInput(rows) {
  const input = document.getElementById("input").getContext("2d");
  input.clearRect(0, 0, 28, 28);
  input.drawImage(grayCanvas(rows, 255), 0, 0);
}

function vectorCanvas(values) {
  const labelled = values.length <= 16;
  const step = labelled ? 26 : Math.max(3, Math.floor(760 / values.length));
  const canvas = document.createElement("canvas");
  canvas.className = "vector";
  canvas.width = step * values.length;
  canvas.height = labelled ? 70 : 56;
  const context = canvas.getContext("2d");
  const plot = labelled ? 54 : canvas.height;
  const low = Math.min(0, ...values);
  const high = Math.max(0, ...values);
  const span = high - low || 1;
  const zero = plot - ((0 - low) / span) * plot;
  context.fillStyle = "#d9dde5";
  context.fillRect(0, zero, canvas.width, 1);
  values.forEach((value, k) => {
    const top = plot - ((Math.max(value, 0) - low) / span) * plot;
    const bottom = plot - ((Math.min(value, 0) - low) / span) * plot;
    context.fillStyle = value >= 0 ? "#2f6fdf" : "#d0743c";
    context.fillRect(k * step + 1, top, step - 2, Math.max(1, bottom - top));
    if (labelled) {
      context.fillStyle = "#667085";
      context.font = "11px system-ui, sans-serif";
      context.textAlign = "center";
      context.fillText(String(k), k * step + step / 2, canvas.height - 3);
    }
  });
  return canvas;
}

function renderLayers(layers) {
  const container = document.getElementById("layers");
  const blocks = layers.map((layer) => {
    const block = document.createElement("div");
    block.className = "layer";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = layer.name;
    const shape = document.createElement("span");
    shape.className = "shape";
    const shown = layer.kind === "maps" && layer.shape[2] > layer.values.length ? `, first ${layer.values.length} maps`
      : layer.kind === "vector" && layer.values.length < layer.shape.reduce((a, b) => a * b, 1) ? `, first ${layer.values.length} values` : "";
    shape.textContent = `output (${layer.shape.join(", ")})${shown}`;
    block.append(name, shape);
    if (layer.kind === "maps") {
      const tiles = document.createElement("div");
      tiles.className = "tiles";
      for (const map of layer.values) tiles.appendChild(grayCanvas(map, 1));
      block.appendChild(tiles);
    } else {
      block.appendChild(vectorCanvas(layer.values));
    }
    return block;
  });
  container.replaceChildren(...blocks);
}

// The epoch slider: shown when the run kept per-epoch snapshots; the drawing is read again at each step.
let keptEpochs = [];
const epochSlider = document.getElementById("epoch");

function withEpoch(request) {
  if (keptEpochs.length > 0) request.epoch = keptEpochs[Number(epochSlider.value)];
  return request;
}

function showEpochs(epochs) {
  keptEpochs = epochs || [];
  if (keptEpochs.length === 0) return;
  epochSlider.max = String(keptEpochs.length - 1);
  epochSlider.value = epochSlider.max;
  document.getElementById("epoch-value").textContent = String(keptEpochs[keptEpochs.length - 1]);
  document.getElementById("epochs").hidden = false;
}

epochSlider.addEventListener("input", () => {
  document.getElementById("epoch-value").textContent = String(keptEpochs[Number(epochSlider.value)]);
  predict();
});

async function loadSummary() {
  const element = document.getElementById("summary");
  try {
    const response = await fetch("/api/summary");
    const summary = await response.json();
    element.textContent = response.ok ? summary.text : summary.error;
    if (response.ok) showEpochs(summary.epochs);
  } catch (error) {
    element.textContent = `No answer from the server: ${error.message}`;
  }
}

clearPad();
loadSummary();
