/** The one `--cheat` grammar (runtime/cheat.ts) for nodes and by-hand tasks. */
import { readFileSync } from "node:fs";

import { expect } from "chai";

import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { cheatOfItem, chooseCheat, exactCheat, formatCheat, parseCheat } from "../../offchain/runtime/cheat.js";

const model = parseCanonicalModel(readFileSync("models/mnist-cnn.canonical.onnx"));

describe("runtime: the --cheat grammar", function () {
  it("reads random and LAYER[:ELEMENT[:DELTA]]", function () {
    expect(parseCheat("random")).to.deep.equal({});
    expect(parseCheat("6")).to.deep.equal({ layer: 6 });
    expect(parseCheat(" 4:100 ")).to.deep.equal({ layer: 4, element: 100 });
    expect(parseCheat("6:3:-5")).to.deep.equal({ layer: 6, element: 3, delta: -5 });
  });

  it("refuses what it cannot read, naming the option", function () {
    expect(() => parseCheat("x", "--cheat")).to.throw(/--cheat "x" is not random or LAYER\[:ELEMENT\[:DELTA\]\]/);
    expect(() => parseCheat("0:1")).to.throw(/layers are numbered from 1/);
    expect(() => parseCheat("2:1:0")).to.throw(/a delta of 0 changes nothing/);
  });

  it("nodes draw the missing parts; by hand every part but DELTA is needed", function () {
    const drawn = chooseCheat(model, parseCheat("2"), () => 0.5);
    expect(drawn.layer).to.equal(2);
    expect(drawn.delta).to.equal(1);
    expect(chooseCheat(model, parseCheat("2:7:-3"))).to.deep.equal({ layer: 2, element: 7, delta: -3 });
    expect(() => chooseCheat(model, parseCheat("99"))).to.throw(/layer 99 is not one of 1\.\./);
    expect(exactCheat(parseCheat("4:100"))).to.deep.equal({ layer: 4, element: 100, delta: 1 });
    expect(() => exactCheat(parseCheat("random"))).to.throw(/by hand, give LAYER:ELEMENT\[:DELTA\]/);
    expect(() => exactCheat(parseCheat("4"))).to.throw(/by hand, give LAYER:ELEMENT\[:DELTA\]/);
    expect(formatCheat({ layer: 4, element: 100, delta: -2 })).to.equal("layer 4, element 100 off by -2");
  });

  it("lies in one item of a batch: @ITEM, or one drawn at random; a single job's cheat names none", function () {
    expect(parseCheat("random@2")).to.deep.equal({ item: 2 });
    expect(parseCheat("4:100@1")).to.deep.equal({ layer: 4, element: 100, item: 1 });
    expect(() => parseCheat("4@x")).to.throw(/the item after @ is a batch item number/);
    expect(() => parseCheat("4@1@2")).to.throw(/names more than one item/);
    expect(chooseCheat(model, parseCheat("2:7@1"), () => 0.5, 3)).to.deep.equal({ layer: 2, element: 7, delta: 1, item: 1 });
    expect(chooseCheat(model, parseCheat("2:7"), () => 0.7, 3)).to.deep.equal({ layer: 2, element: 7, delta: 1, item: 2 });
    expect(chooseCheat(model, parseCheat("2:7"), () => 0.7)).to.deep.equal({ layer: 2, element: 7, delta: 1 });
    expect(() => chooseCheat(model, parseCheat("2:7@3"), () => 0.5, 3)).to.throw(/the job has 3 item\(s\), no item 3/);
    expect(exactCheat(parseCheat("4:100@2"))).to.deep.equal({ layer: 4, element: 100, delta: 1, item: 2 });
    expect(formatCheat({ layer: 4, element: 100, delta: 2, item: 1 })).to.equal("item 1, layer 4, element 100 off by +2");
    // Each item's own cheat: the lie in its item, nothing in the others (a single job's is item 0).
    const lie = { layer: 2, element: 7, delta: 1, item: 1 };
    expect(cheatOfItem(lie, 1)).to.deep.equal({ layer: 2, element: 7, delta: 1 });
    expect(cheatOfItem(lie, 0)).to.equal(undefined);
    expect(cheatOfItem({ layer: 2, element: 7, delta: 1 }, 0)).to.deep.equal({ layer: 2, element: 7, delta: 1 });
  });
});
