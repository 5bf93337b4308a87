/**
 * The RabbitMQ objects of one deployment. Every executor of the deployment declares the same
 * ones with the same arguments (RabbitMQ refuses a redeclaration that differs), so they are
 * computed here from the deployment name and the attempt limit alone.
 *
 *   <base>            quorum queue of requests; a message the executors give up on, or one the
 *                     broker saw delivered too often (an executor died on it each time), is
 *                     dead-lettered, at least once, to
 *   <base>.dead       a fanout exchange bound to
 *   <base>.dlq        the dead-letter queue people inspect and replay from, and
 *   <base>.dead-events the queue executors consume to write "dead_lettered" into the job's status
 *   <base>.callbacks  quorum queue of callback deliveries still owed
 */
export interface Topology {
  requests: string;
  deadExchange: string;
  deadLetters: string;
  deadEvents: string;
  callbacks: string;
  requestArguments: Record<string, unknown>;
  quorumArguments: Record<string, unknown>;
}

export function deploymentTopology(deployment: string, maxAttempts: number): Topology {
  const base = `wharf.executor.${deployment}`;
  const quorum = { 'x-queue-type': 'quorum' };
  return {
    requests: base,
    deadExchange: `${base}.dead`,
    deadLetters: `${base}.dlq`,
    deadEvents: `${base}.dead-events`,
    callbacks: `${base}.callbacks`,
    quorumArguments: quorum,
    requestArguments: {
      ...quorum,
      // The executor dead-letters a message itself after maxAttempts failed calls; the broker's
      // limit is the backstop for a message whose processing kills the executor every time.
      'x-delivery-limit': maxAttempts,
      'x-dead-letter-exchange': `${base}.dead`,
      // At-least-once dead-lettering (RabbitMQ ≥ 3.10) needs reject-publish overflow.
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    },
  };
}
