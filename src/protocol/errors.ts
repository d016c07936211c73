import { CloseReason, type ErrorCode } from './codes.js';

/**
 * An error a client caused: carries the machine code for `system/error` and, when it is fatal,
 * the close code to use. Thrown by handlers, turned into a frame by the connection.
 */
export class ProtocolError extends Error {
  constructor(
    /** `system/error.code`. */
    readonly code: ErrorCode,
    message: string,
    /** When set, the connection closes with this code instead of answering with `system/error`. */
    readonly closeCode?: number,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** An error that ends the connection with `closeCode` (after `system/disconnect`). */
export class CloseError extends Error {
  constructor(
    readonly closeCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'CloseError';
  }

  /** The `reason` string for the close frame and `system/disconnect`. */
  get reason(): string {
    return CloseReason[this.closeCode] ?? 'error';
  }
}
