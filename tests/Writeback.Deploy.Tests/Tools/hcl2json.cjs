// Parses each .tf file named on the command line with @cdktf/hcl2json (HashiCorp's HCL parser, compiled to wasm)
// and prints {"<file>": <json> | {"error": "<message>"}}; used by TerraformTests. Usage: node hcl2json.cjs TOOLS FILE...
const path = require("path");
const fs = require("fs");
const { parse } = require(path.join(process.argv[2], "@cdktf", "hcl2json"));

(async () => {
  const out = {};
  for (const file of process.argv.slice(3)) {
    try {
      out[file] = await parse(path.basename(file), fs.readFileSync(file, "utf8"));
    } catch (e) {
      out[file] = { error: String(e && e.message ? e.message : e) };
    }
  }
  process.stdout.write(JSON.stringify(out));
})();
