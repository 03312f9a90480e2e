#!/usr/bin/env node
// check.js checks Adaptive Card JSON files with the official parser, the npm package
// adaptivecards (3.0.6), targeting version 1.3, the version Webex supports.
//
// Usage, from the repository root:
//
//   (cd tools/cardcheck && npm ci)
//   node tools/cardcheck/check.js cards/testdata/*.json
//
// or from here: npm ci && node check.js ../../cards/testdata/*.json (also: npm run check).
//
// For each file it parses the card with SerializationContext{targetVersion: 1.3} and fails on
// every parse event (an unknown element or action type such as Action.Execute, a property
// newer than 1.3, ...), then on every card.validateProperties() event (duplicate ids,
// required inputs without a label or an error message, ...), and finally renders the card
// under jsdom. Files whose name ends in .schema.json (the JSON schema kept beside the golden
// cards) are skipped. It prints one line per failure, then "N passed, M failed", and exits 1
// if anything failed (2 on bad usage).
//
// The UMD bundle (adaptivecards/dist/adaptivecards.js) is required because the package's lib/
// is ESM with extensionless imports. The bundle includes its own copy of swiper, so the
// peer dependency npm installs alongside is not needed at run time.
"use strict";

const fs = require("fs");
const path = require("path");
const { JSDOM } = require("jsdom");

// The renderer expects a browser: give it jsdom's window (document, HTMLInputElement, ...)
// before loading it. Globals Node already has are kept.
const { window } = new JSDOM("<!DOCTYPE html><html><body></body></html>", {
  pretendToBeVisual: true,
  url: "https://localhost/",
});
global.window = window;
for (const name of Object.getOwnPropertyNames(window)) {
  if (!(name in global)) {
    Object.defineProperty(global, name, {
      get: () => window[name],
      configurable: true,
    });
  }
}

const AC = require("adaptivecards/dist/adaptivecards.js");

// Markdown is rendered by each Webex client, not here: leave text as it is, without the
// renderer's "Markdown processing isn't enabled" warning.
AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
  result.didProcess = false;
};

const eventName = (event) => AC.ValidationEvent[event] || String(event);

// describe names the card object an event is about, such as Input.Text "adminEmail".
function describe(source) {
  if (!source || typeof source.getJsonTypeName !== "function") {
    return "the card";
  }
  const id = source.id ? ` "${source.id}"` : "";
  return `${source.getJsonTypeName()}${id}`;
}

// check returns the problems of one card file; none means it passed.
function check(file) {
  let json;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    return [`cannot read JSON: ${err.message}`];
  }
  if (!json || json.type !== "AdaptiveCard") {
    return [`not an Adaptive Card: "type" is ${JSON.stringify(json && json.type)}`];
  }
  if (json.version !== "1.3") {
    return [`"version" is ${JSON.stringify(json.version)}; Webex supports 1.3`];
  }

  const problems = [];
  const context = new AC.SerializationContext(AC.Versions.v1_3);
  const card = new AC.AdaptiveCard();
  try {
    card.parse(json, context);
  } catch (err) {
    return [`parse threw: ${err.message}`];
  }
  for (let i = 0; i < context.eventCount; i++) {
    const e = context.getEventAt(i);
    problems.push(`parse: ${eventName(e.event)} in ${describe(e.source)}: ${e.message}`);
  }
  for (const e of card.validateProperties().validationEvents) {
    problems.push(`validate: ${eventName(e.event)} in ${describe(e.source)}: ${e.message}`);
  }
  try {
    if (!card.render()) {
      problems.push("render: the card rendered to nothing");
    }
  } catch (err) {
    problems.push(`render threw: ${err.message}`);
  }
  return problems;
}

function main(files) {
  if (files.length === 0) {
    console.error("usage: node check.js card.json…");
    return 2;
  }
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const file of files) {
    if (path.basename(file).endsWith(".schema.json")) {
      skipped++;
      continue;
    }
    const problems = check(file);
    if (problems.length === 0) {
      passed++;
      continue;
    }
    failed++;
    for (const p of problems) {
      console.log(`${file}: ${p}`);
    }
  }
  const note = skipped > 0 ? ` (${skipped} schema file${skipped === 1 ? "" : "s"} skipped)` : "";
  console.log(`${passed} passed, ${failed} failed${note}`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
