// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GraphLeaf, Layer} from "../lib/GraphLeaf.sol";
import {OneStepVerifierEmptyWindow} from "../lib/OneStepErrors.sol";
import {StepReader, StepReaderLib} from "./StepReader.sol";

/// @notice MAXPOOL geometry read from the params (input [1,C,H,W], output [1,C,OH,OW]).
struct PoolGeometry {
    uint256 c;
    uint256 h;
    uint256 w;
    uint256 kh;
    uint256 kw;
    uint256 sy;
    uint256 sx;
    uint256 pt;
    uint256 pl;
    uint256 oh;
    uint256 ow;
}

/**
 * @title MaxPoolStep
 * @notice MAXPOOL: y[c,oy,ox] = max over the in-range elements of the window (padding never wins).
 * Params `C, H, W, KH, KW, sy, sx, pt, pl, pb, pr`; no constants.
 * Index mapping: e -> (c, oy, ox) row-major over [C, OH, OW]; window position t (0 <= t < KH·KW)
 * -> (i, j) row-major over [KH, KW]; input element (c·H + y)·W + x with y = oy·sy+i−pt,
 * x = ox·sx+j−pl, or padding when out of range.
 * Two ways, same result:
 *  - Direct (what the game uses; windows are small): reads every in-range window element in
 *    window order and returns their maximum.
 *  - As a short reduction (for very large windows): s_0 = EMPTY (-2^24, below every value),
 *    s_{t+1} = max(s_t, x) (unchanged at a padded position, which reads nothing), y = s_L.
 */
library MaxPoolStep {
    using StepReaderLib for StepReader;

    /// @notice The running maximum of an empty window: below every value (|v| < 2^24).
    int256 internal constant EMPTY = -(2 ** 24);

    /// @notice The layer's geometry.
    function geometry(Layer memory l) internal pure returns (PoolGeometry memory g) {
        g.c = GraphLeaf.dim(l, 0);
        g.h = GraphLeaf.dim(l, 1);
        g.w = GraphLeaf.dim(l, 2);
        g.kh = GraphLeaf.dim(l, 3);
        g.kw = GraphLeaf.dim(l, 4);
        g.sy = GraphLeaf.dim(l, 5);
        g.sx = GraphLeaf.dim(l, 6);
        g.pt = GraphLeaf.dim(l, 7);
        g.pl = GraphLeaf.dim(l, 8);
        g.oh = l.outShape[2];
        g.ow = l.outShape[3];
    }

    /// @notice L = KH·KW, the window size.
    function length(PoolGeometry memory g) internal pure returns (uint256) {
        return g.kh * g.kw;
    }

    /// @notice Term t of output element e: the input element it reads, unless `padded`.
    function termIndex(PoolGeometry memory g, uint256 e, uint256 t) internal pure returns (bool padded, uint256 x) {
        uint256 c = e / (g.oh * g.ow);
        uint256 yp = ((e / g.ow) % g.oh) * g.sy + t / g.kw;
        uint256 xp = (e % g.ow) * g.sx + t % g.kw;
        if (yp < g.pt || yp - g.pt >= g.h || xp < g.pl || xp - g.pl >= g.w) return (true, 0);
        x = (c * g.h + (yp - g.pt)) * g.w + (xp - g.pl);
    }

    /// @notice s_0 = EMPTY.
    function initial() internal pure returns (int256) {
        return EMPTY;
    }

    /// @notice s_{t+1} = max(s_t, x), or s_t at a padded position.
    function reduce(Layer memory l, StepReader memory r, uint256 e, uint256 t, int256 s) internal view returns (int256) {
        PoolGeometry memory g = geometry(l);
        (bool padded, uint256 xi) = termIndex(g, e, t);
        // INVARIANT: padding never wins, so it leaves the running maximum as it is.
        if (padded) return s;
        int256 x = r.inputAt(0, xi, g.c * g.h * g.w);
        return x > s ? x : s;
    }

    /// @notice y = max over the window's in-range elements, each read in window order.
    function direct(Layer memory l, StepReader memory r, uint256 e) internal view returns (int256 best) {
        PoolGeometry memory g = geometry(l);
        uint256 n = g.c * g.h * g.w;
        best = EMPTY;
        for (uint256 t = 0; t < g.kh * g.kw; ++t) {
            (bool padded, uint256 xi) = termIndex(g, e, t);
            if (padded) continue;
            int256 x = r.inputAt(0, xi, n);
            if (x > best) best = x;
        }
        return finish(e, best);
    }

    /// @notice y = s_L; a window cannot be empty (every pad is smaller than the kernel).
    function finish(uint256 e, int256 acc) internal pure returns (int256) {
        if (acc == EMPTY) revert OneStepVerifierEmptyWindow(e);
        return acc;
    }
}
