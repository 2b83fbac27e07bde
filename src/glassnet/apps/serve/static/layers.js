// glassnet serve: drawing a layer's activations, feature maps as gray tiles and vectors as bars (loaded before app.js).
"use strict";

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
