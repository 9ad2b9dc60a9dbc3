/**
 * Waiting for a transaction that may have been re-sent with higher fees. A node replaces a
 * transaction stuck in the mempool by one with the same nonce, recipient, data and value (see
 * offchain/nodes/signer.ts); ethers then reports the original as "replaced" with the reason
 * "repriced". For the caller that is the same transaction, mined: return the replacement's receipt.
 */
import { isError } from "ethers";

export async function waitMined<R>(tx: { wait(confirmations?: number): Promise<R | null> }, confirmations?: number): Promise<R | null> {
  try {
    return await tx.wait(confirmations);
  } catch (e) {
    if (isError(e, "TRANSACTION_REPLACED") && e.reason === "repriced" && e.receipt) {
      if (e.receipt.status !== 1) throw e;
      // The replacement's receipt: its logs are plain logs, which every caller reads by topic.
      return e.receipt as unknown as R;
    }
    throw e;
  }
}
