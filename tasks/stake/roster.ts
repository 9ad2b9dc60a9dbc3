import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import type { RosterChange, RosterStatus } from "../../offchain/cli/index.js";
import { VeritensorError, action, formatVtn, joinRoster, leaveRoster, openProtocol, parseId, partyFrom, report, resolveSigner, rosterStatus } from "../../offchain/cli/index.js";

interface Args {
  model: string | undefined;
  join: boolean;
  leave: boolean;
  from: string | undefined;
}

export interface RosterResult {
  readonly status: RosterStatus;
  readonly change?: RosterChange;
}

/** `part` of `whole` as a percentage with two decimals (exact integer arithmetic). */
function share(part: bigint, whole: bigint): string {
  if (whole === 0n) return "the model has no weight this epoch: its jobs are open to every staked worker";
  const hundredths = (part * 10_000n) / whole;
  return `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, "0")}% of the model's weight`;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment): Promise<RosterResult> => {
  if (a.join && a.leave) throw new VeritensorError("--join and --leave contradict each other: give one of them, or neither to show the place");
  const from = partyFrom(a.from, a.join || a.leave ? "stake roster changes the sender's place" : "stake roster shows an account's place");
  const modelId = parseId(a.model, "--model");
  const p = await openProtocol(hre);
  const signer = await resolveSigner(p.connection, from);
  const address = await signer.getAddress();
  const change = a.join ? await joinRoster(p, signer, modelId) : a.leave ? await leaveRoster(p, signer, modelId) : undefined;
  const status = await rosterStatus(p, modelId, address);
  const { member, epoch, epochBlocks } = status;
  const title = a.join
    ? `${address} joined model ${modelId}'s roster`
    : a.leave
      ? `${address} leaves model ${modelId}'s draws`
      : `${address} in model ${modelId}'s roster`;
  report(title, [
    ["position", member.position === 0n ? "none (not a member)" : String(member.position)],
    ["weight now", `${formatVtn(member.current)} (${share(member.current, status.totalWeight)})`],
    ["weight next epoch", `${formatVtn(member.next)}${member.next !== member.current ? ` (from epoch ${epoch + 1n}, block ${(epoch + 1n) * epochBlocks})` : ""}`],
    ["epoch", `${epoch} (${epochBlocks} blocks each)`],
    ["weight rule", `min(staked, cap ${formatVtn(status.weightCap)}); staked ${formatVtn(status.staked)}, minimum ${formatVtn(status.minStake)}`],
    ["serves the model", status.serves ? "yes" : `no: \`npx hardhat stake serve --models ${modelId}\``],
    [
      "note",
      a.leave
        ? "stop the worker first: a running worker joins again by itself; the position is kept until reclaimed"
        : member.position === 0n || member.next === 0n
          ? `not drawn from the next epoch: \`npx hardhat stake roster --model ${modelId} --join\` (a running worker joins by itself)`
          : undefined,
    ],
    ["tx", change?.receipt.hash],
  ]);
  return { status, ...(change ? { change } : {}) };
});
