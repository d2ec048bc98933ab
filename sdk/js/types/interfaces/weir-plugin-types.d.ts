declare module 'weir:plugin/types@0.1.0' {
  /**
   * One record header. Names may repeat; order is kept.
   */
  export interface Header {
    name: string,
    value: Uint8Array,
  }
  /**
   * The unit of data flowing through a pipeline.
   */
  export interface Record {
    /**
     * Partitioning key; none when the record has no key.
     */
    key?: Uint8Array,
    /**
     * Payload bytes.
     */
    value: Uint8Array,
    headers: Array<Header>,
    /**
     * Event time in milliseconds since the Unix epoch.
     */
    eventTime?: bigint,
  }
  /**
   * Why a call failed, and whether retrying can help.
   */
  export type Error = ErrorTransient | ErrorInvalidInput | ErrorFatal;
  /**
   * Retrying the same input later may succeed (a timeout, a busy service).
   */
  export interface ErrorTransient {
    tag: 'transient',
    val: string,
  }
  /**
   * This input can never succeed; skip it or dead-letter it.
   */
  export interface ErrorInvalidInput {
    tag: 'invalid-input',
    val: string,
  }
  /**
   * The plugin cannot go on; the instance is recreated.
   */
  export interface ErrorFatal {
    tag: 'fatal',
    val: string,
  }
  /**
   * An opaque resume position of a source.
   */
  export type Position = Uint8Array;
  /**
   * What a source returns from one poll.
   */
  export interface PollResult {
    records: Array<Record>,
    /**
     * Position after the last record returned, if it moved.
     */
    position?: Position,
    /**
     * True when the source will never produce more.
     */
    done: boolean,
  }
  /**
   * An event-time window, [start, end) in milliseconds since the epoch.
   */
  export interface Window {
    start: bigint,
    end: bigint,
  }
}
