/** Model, input and conversion errors are the user's to fix: show them as one clear line. */
import { VeritensorError } from "../../clients/errors.js";
import { ConvertError } from "../../convert/errors.js";
import { InputError, ModelError } from "../../model/errors.js";

/** Runs `fn`; a ModelError, InputError or ConvertError becomes a VeritensorError naming `file`. */
export async function asUserError<T>(file: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ModelError || e instanceof InputError || e instanceof ConvertError) {
      throw new VeritensorError(`${file}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}
