/** The floor with its one write (floor-handler.ts, `writingHandler`), as a function module of its own. */
export { writingHandler as handler } from './floor-handler';
