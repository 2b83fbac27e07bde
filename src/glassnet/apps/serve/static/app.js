// glassnet serve: draw a digit or upload a photo, send it to /api/predict, show the prediction and every layer.
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
let upload = null; // the PNG or JPEG file shown on the pad, sent as it is instead of the drawing
let classNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]; // replaced by the model's (/api/summary)

function setState(state, message) {
  document.body.dataset.state = state;
  statusLine.textContent = message;
}

function clearPad() {
  padContext.fillStyle = "#fff";
  padContext.fillRect(0, 0, pad.width, pad.height);
  drawn = false;
  upload = null;
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
  setState("empty", "Draw a digit with the mouse, a pen or a finger, or upload a photo.");
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
  if (upload) clearPad(); // drawing starts afresh over an uploaded photo
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
  if (!drawn && !upload) return;
  if (inFlight) inFlight.abort();
  const controller = new AbortController();
  inFlight = controller;
  setState("busy", "Reading\u2026");
  const request = upload
    ? { url: `/api/predict${epochQuery()}`, type: upload.type || "application/octet-stream", body: upload }
    : { url: "/api/predict", type: "application/json",
      body: JSON.stringify(withEpoch({ width: SEND_SIDE, height: SEND_SIDE, pixels: drawingPixels() })) };
  try {
    const response = await fetch(request.url, {
      method: "POST",
      headers: { "Content-Type": request.type },
      body: request.body,
      signal: controller.signal,
    });
    const result = await response.json(); // errors are JSON too: {"error": "..."}
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
  if (bars.children.length !== classNames.length) {
    bars.replaceChildren();
    for (let k = 0; k < classNames.length; k++) {
      const row = document.createElement("div");
      row.className = "bar";
      row.innerHTML = '<span class="label"></span><span class="track"><span class="fill"></span></span><span class="value"></span>';
      row.querySelector(".label").textContent = classNames[k];
      row.querySelector(".label").title = classNames[k];
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

function renderInput(rows) {
  const input = document.getElementById("input").getContext("2d");
  input.clearRect(0, 0, 28, 28);
  input.drawImage(grayCanvas(rows, 255), 0, 0);
}

// The epoch slider: shown when the run kept per-epoch snapshots; the drawing is read again at each step.
let keptEpochs = [];
const epochSlider = document.getElementById("epoch");

function epochQuery() {
  return keptEpochs.length > 0 ? `?epoch=${keptEpochs[Number(epochSlider.value)]}` : "";
}

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
    if (response.ok) {
      showEpochs(summary.epochs);
      showModel(summary.model);
    }
  } catch (error) {
    element.textContent = `No answer from the server: ${error.message}`;
  }
}

// Uploading a photo: the file goes to the server as it is (PNG or JPEG), decoded and made
// MNIST-like there as `glassnet predict` does; the pad shows it meanwhile.
async function useFile(file) {
  if (!file) return;
  clearPad();
  upload = file;
  try {
    const bitmap = await createImageBitmap(file); // upright by EXIF, as the server reads it
    const scale = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
    const width = bitmap.width * scale;
    const height = bitmap.height * scale;
    padContext.drawImage(bitmap, (pad.width - width) / 2, (pad.height - height) / 2, width, height);
  } catch (error) {
    // not a picture the browser can show: the server's answer says what is wrong with it
  }
  predict();
}

const photo = document.getElementById("photo");
photo.addEventListener("change", () => {
  useFile(photo.files[0]);
  photo.value = ""; // choosing the same file again reads it again
});
for (const target of [pad, document.getElementById("drop")]) {
  target.addEventListener("dragover", (event) => {
    event.preventDefault();
    document.body.classList.add("dragging");
  });
  target.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
  target.addEventListener("drop", (event) => {
    event.preventDefault();
    document.body.classList.remove("dragging");
    useFile(event.dataTransfer.files[0]);
  });
}

function percent(value) {
  return `${(100 * value).toFixed(2)}%`;
}

// What the model file (and its run's record) says: name, classes, accuracies and where they come from.
function showModel(model) {
  if (!model) return;
  classNames = model.classes;
  renderBars(null, -1, true);
  document.getElementById("model-name").textContent = model.name ?? "not recorded";
  document.getElementById("model-classes").textContent =
    `${model.classes.length}: ${model.classes.join(", ")}${model.class_names_stored ? "" : " (outputs by number: the file names no classes)"}`;
  const epochs = `after ${model.epochs_trained} epoch${model.epochs_trained === 1 ? "" : "s"}`;
  document.getElementById("model-accuracy").textContent = model.test_accuracy !== null
    ? `${percent(model.test_accuracy)} on the ${model.tested_on} set ${epochs}`
    : "not recorded";
  const known = [];
  if (model.validation_accuracy !== null) known.push(`validation accuracy ${percent(model.validation_accuracy)}`);
  if (model.training_accuracy !== null) known.push(`training accuracy ${percent(model.training_accuracy)}`);
  document.getElementById("model-history").textContent = known.length > 0
    ? `${known.join(", ")} ${epochs} (the model's history)` : "no training history in the model file";
  document.getElementById("model-note").textContent = `Note: ${model.note}.`;
}

clearPad();
loadSummary();
