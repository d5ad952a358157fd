/**
 * task(9) and taskq(9) on a World: a Task is made once (task_set()) and
 * queued with add() at most once at a time; a TaskQueue runs its tasks in
 * FIFO order from one event on the world's queue, as a taskq thread would.
 * The softnet queues (net_tq()) of a kernel are TaskQueues.
 *
 * A run takes the tasks queued when it starts; tasks added meanwhile run in
 * a following event at the same time, after other events already due, so
 * a task that re-adds itself cannot starve the rest of the world.
 */
import type { World } from './kern_clock.js';
import type { Timeout } from './kern_timeout.js';

interface TaskLink {
  tq: TaskQueue | null;
  next: TaskLink | null;
  prev: TaskLink | null;
  run(): void;
}

export class Task<T = unknown> implements TaskLink {
  /** The queue it is on, or null. */
  tq: TaskQueue | null = null;
  next: TaskLink | null = null;
  prev: TaskLink | null = null;

  constructor(
    public fn: (arg: T) => void,
    public arg: T,
  ) {}

  run(): void {
    this.fn(this.arg);
  }

  /** task_pending() */
  get pending(): boolean {
    return this.tq !== null;
  }
}

export class TaskQueue {
  private head: TaskLink | null = null;
  private tail: TaskLink | null = null;
  private count = 0;
  private readonly runner: Timeout<TaskQueue>;
  /** Tasks run so far. */
  runs = 0;

  /**
   * @param latency ns between a task becoming runnable and the queue
   * running it (0: the same virtual instant, after events already due).
   * A lab sets it to model a busy CPU (the topology's `softnet: { latency }`,
   * the shell's `softnet` command); a change applies from the next run.
   */
  constructor(
    readonly world: World,
    readonly name: string,
    public latency = 0,
  ) {
    this.runner = world.timeout<TaskQueue>(TaskQueue.run, this);
    // Not a timer: tasks work on packets that have their journeys.
    this.runner.name = '';
  }

  get length(): number {
    return this.count;
  }

  /** task_add(): false when the task is already queued (here or elsewhere). */
  add(t: TaskLink): boolean {
    if (t.tq !== null) return false;
    t.tq = this;
    t.next = null;
    t.prev = this.tail;
    if (this.tail) this.tail.next = t;
    else this.head = t;
    this.tail = t;
    this.count++;
    if (!this.runner.pending) this.runner.after(this.latency);
    return true;
  }

  /** task_del(): false when the task was not on this queue. */
  del(t: TaskLink): boolean {
    if (t.tq !== this) return false;
    if (t.prev) t.prev.next = t.next;
    else this.head = t.next;
    if (t.next) t.next.prev = t.prev;
    else this.tail = t.prev;
    t.next = t.prev = null;
    t.tq = null;
    this.count--;
    if (this.count === 0) this.runner.del();
    return true;
  }

  private static run(tq: TaskQueue): void {
    let n = tq.count;
    while (n-- > 0 && tq.head !== null) {
      const t = tq.head;
      tq.del(t);
      tq.runs++;
      t.run();
    }
    if (tq.count > 0 && !tq.runner.pending) tq.runner.after(tq.latency);
  }
}

export function task_add<T>(tq: TaskQueue, t: Task<T>): boolean {
  return tq.add(t);
}
export function task_del<T>(tq: TaskQueue, t: Task<T>): boolean {
  return tq.del(t);
}
