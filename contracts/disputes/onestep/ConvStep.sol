// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GraphLeaf, Layer} from "../lib/GraphLeaf.sol";
import {ConvStepBadGroup} from "../lib/OneStepErrors.sol";
import {Requant} from "./Requant.sol";
import {StepReader, StepReaderLib} from "./StepReader.sol";

/// @notice CONV geometry read from the params (input [1,C,H,W], output [1,M,OH,OW]).
struct ConvGeometry {
    uint256 c;
    uint256 h;
    uint256 w;
    uint256 m;
    uint256 kh;
    uint256 kw;
    uint256 sy;
    uint256 sx;
    uint256 pt;
    uint256 pl;
    uint256 group;
    uint256 oh;
    uint256 ow;
}

/**
 * @title ConvStep
 * @notice CONV: y[m,oy,ox] = clip((B[m] + Σ_{c,i,j} x[c0+c, oy·sy+i−pt, ox·sx+j−pl]·W[m,c,i,j]) >> s[m], lo, hi),
 * out-of-range x reads 0, c over the C/group channels of m's group, c0 = ⌊m / (M/group)⌋·(C/group).
 * Params `C, H, W, M, KH, KW, sy, sx, pt, pl, pb, pr, group, lo, hi`; constants
 * `W [M, C/group, KH, KW]`, `B [M]`, `s [M]`.
 * Index mapping: e -> (m, oy, ox) row-major over [M, OH, OW]; term t (0 <= t < (C/group)·KH·KW) ->
 * (c, i, j) row-major over [C/group, KH, KW], i.e. weight element m·L + t; input element
 * ((c0+c)·H + y)·W + x, or padding when y or x is out of range.
 * Reads, in order: Reduce `x`, `W[m·L + t]` (nothing at a padded position), after `B[m]` (s_0)
 * at t = 0; Final `s[m]`.
 */
library ConvStep {
    using StepReaderLib for StepReader;

    uint256 internal constant P_LO = 13;
    uint256 internal constant P_HI = 14;
    uint256 internal constant C_W = 0;
    uint256 internal constant C_B = 1;
    uint256 internal constant C_S = 2;

    /// @notice The layer's geometry. Reverts {ConvStepBadGroup} unless group divides C and M.
    function geometry(Layer memory l) internal pure returns (ConvGeometry memory g) {
        g.c = GraphLeaf.dim(l, 0);
        g.h = GraphLeaf.dim(l, 1);
        g.w = GraphLeaf.dim(l, 2);
        g.m = GraphLeaf.dim(l, 3);
        g.kh = GraphLeaf.dim(l, 4);
        g.kw = GraphLeaf.dim(l, 5);
        g.sy = GraphLeaf.dim(l, 6);
        g.sx = GraphLeaf.dim(l, 7);
        g.pt = GraphLeaf.dim(l, 8);
        g.pl = GraphLeaf.dim(l, 9);
        g.group = GraphLeaf.dim(l, 12);
        if (g.group == 0 || g.c % g.group != 0 || g.m % g.group != 0) revert ConvStepBadGroup(g.c, g.m, g.group);
        g.oh = l.outShape[2];
        g.ow = l.outShape[3];
    }

    /// @notice L = (C/group)·KH·KW, the dot product's length.
    function length(ConvGeometry memory g) internal pure returns (uint256) {
        return (g.c / g.group) * g.kh * g.kw;
    }

    /// @notice The output channel of element e.
    function outputChannel(ConvGeometry memory g, uint256 e) internal pure returns (uint256) {
        return e / (g.oh * g.ow);
    }

    /// @notice Term t of output element e: the input element it reads (unless `padded`, where x
    /// reads 0) and the weight element.
    function termIndices(ConvGeometry memory g, uint256 e, uint256 t)
        internal
        pure
        returns (bool padded, uint256 x, uint256 w)
    {
        uint256 m = e / (g.oh * g.ow);
        // t -> (c, i, j) = (t / (KH·KW), (t / KW) mod KH, t mod KW); the weight row of m is contiguous.
        w = m * length(g) + t;
        (uint256 yp, uint256 xp) = _unpadded(g, e, t);
        if (yp < g.pt || yp - g.pt >= g.h || xp < g.pl || xp - g.pl >= g.w) return (true, 0, w);
        // Input channel c0 + c with c0 = ⌊m / (M/group)⌋·(C/group).
        uint256 ch = (m / (g.m / g.group)) * (g.c / g.group) + t / (g.kh * g.kw);
        x = (ch * g.h + (yp - g.pt)) * g.w + (xp - g.pl);
    }

    /// @dev Input coordinates of term t of element e before padding: y + pt = oy·sy + i and
    /// x + pl = ox·sx + j (kept unsigned; out of range when below the pad or past it).
    function _unpadded(ConvGeometry memory g, uint256 e, uint256 t) private pure returns (uint256 yp, uint256 xp) {
        yp = ((e / g.ow) % g.oh) * g.sy + (t / g.kw) % g.kh;
        xp = (e % g.ow) * g.sx + t % g.kw;
    }

    /// @notice s_0 = B[m].
    function initial(Layer memory l, StepReader memory r, uint256 e) internal view returns (int256) {
        ConvGeometry memory g = geometry(l);
        return r.constantAt(C_B, outputChannel(g, e), g.m);
    }

    /// @notice s_{t+1} = s_t + x·W[m, c, i, j], or s_t at a padded position.
    function reduce(Layer memory l, StepReader memory r, uint256 e, uint256 t, int256 s) internal view returns (int256) {
        ConvGeometry memory g = geometry(l);
        (bool padded, uint256 xi, uint256 wi) = termIndices(g, e, t);
        // INVARIANT: padding reads 0, so its term adds nothing and needs no opening.
        if (padded) return s;
        int256 x = r.inputAt(0, xi, g.c * g.h * g.w);
        int256 w = r.constantAt(C_W, wi, g.m * length(g));
        return s + x * w;
    }

    /// @notice y = clip(s_L >> s[m], lo, hi).
    function finish(Layer memory l, StepReader memory r, uint256 e, int256 acc) internal view returns (int256) {
        ConvGeometry memory g = geometry(l);
        int256 s = r.constantAt(C_S, outputChannel(g, e), g.m);
        return Requant.requant(acc, s, GraphLeaf.param(l, P_LO), GraphLeaf.param(l, P_HI));
    }
}
