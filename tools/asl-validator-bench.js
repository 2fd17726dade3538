#!/usr/bin/env node
// Times asl-validator (the npm package pinned in package.json) as a library in one warm Node
// process, so start-up is not counted. Used by crates/stepwright/benches/validate.rs.
//
// Usage: node tools/asl-validator-bench.js CASES.json [MIN_SECONDS_PER_CASE]
// CASES.json: [{"name": "...", "definition": {...}}, ...]
// Prints one JSON document: {"version": "4.0.0", "results": [{"name", "valid", "runs",
// "seconds_per_run" (wall), "cpu_seconds_per_run" (process CPU time, user + system: robust when
// the machine is loaded), "errors": [first 3 messages]}]}; the times are the median run's.
"use strict";

const fs = require("fs");
const path = require("path");
const validator = require("asl-validator");
const version = require("asl-validator/package.json").version;

const [, , casesFile, minSecondsArg] = process.argv;
if (!casesFile) {
  console.error("usage: asl-validator-bench.js CASES.json [MIN_SECONDS_PER_CASE]");
  process.exit(2);
}
const minSeconds = Number(minSecondsArg || "0.05");
const cases = JSON.parse(fs.readFileSync(path.resolve(casesFile), "utf8"));

// asl-validator mutates its input (it fills in QueryLanguage): give each run a fresh copy.
const fresh = (d) => JSON.parse(JSON.stringify(d));

// Warm up: compile the schemas and JIT the hot paths.
for (const c of cases.slice(0, 20)) validator(fresh(c.definition));

const results = [];
for (const c of cases) {
  const first = validator(fresh(c.definition));
  // Timed runs until minSeconds have passed, and at least three for a slow case (over 0.25 s a
  // run: a single run of the 10,000-state chain swung from 0.64 to 1.7 s between bench runs);
  // the median run is reported.
  const walls = [];
  const cpus = [];
  let elapsed = 0;
  do {
    const copy = fresh(c.definition);
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    validator(copy);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const dc = process.cpuUsage(c0);
    walls.push(wall);
    cpus.push((dc.user + dc.system) / 1e6);
    elapsed += wall;
  } while ((elapsed < minSeconds || (walls.length < 3 && walls[0] > 0.25)) && walls.length < 1000);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  results.push({
    name: c.name,
    valid: first.isValid,
    runs: walls.length,
    seconds_per_run: median(walls),
    cpu_seconds_per_run: median(cpus),
    errors: (first.errors || []).slice(0, 3).map((e) => e.message || JSON.stringify(e)),
  });
}
process.stdout.write(JSON.stringify({ version, results }) + "\n");
