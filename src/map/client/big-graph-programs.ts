import type Sigma from 'sigma';
import { EdgeLineProgram, NodePointProgram } from 'sigma/rendering';
import type { RenderParams } from 'sigma/types';

/**
 * How the graph page keeps 100,000 nodes smooth (docs/map-views.md, measured by bench/cases/map-render.ts): while
 * the camera moves, a frame draws a sample of the nodes, no links and no picking pass; when it stops, links
 * within an AS are drawn only once zoomed in past `intraLinksBelowRatio`, the links between ASes always.
 */
export interface Motion {
  /** Set before every frame from sigma's own test of a moving camera (drag, inertia, wheel, animation). */
  moving: boolean;
  /** Nodes drawn while moving: the first ones in the graph's order, which the page makes a uniform sample. */
  movingNodes: number;
  intraLinksBelowRatio: number;
}

/** The same test sigma's render() makes for `hideEdgesOnMove`, without its full re-index when a drag ends. */
export function isMoving(sigma: Sigma): boolean {
  const mouse = sigma.getMouseCaptor();
  return (
    sigma.getCamera().isAnimated() || mouse.isMoving || mouse.draggedEvents > 0 || mouse.currentWheelDirection !== 0
  );
}

/**
 * Square points (one vertex each); while moving, only the first `movingNodes` and no picking pass, the second
 * draw of every node that hovering and clicking read, which nobody can use mid-drag.
 */
export function nodePointsWhileMoving(motion: Motion) {
  return class MovingNodePointProgram extends NodePointProgram {
    override render(params: RenderParams): void {
      if (!motion.moving) return super.render(params);
      const { verticesCount, pickProgram } = this;
      this.verticesCount = Math.min(verticesCount, motion.movingNodes * this.VERTICES);
      this.pickProgram = null;
      try {
        super.render(params);
      } finally {
        this.verticesCount = verticesCount;
        this.pickProgram = pickProgram;
      }
    }
  };
}

/** 1 px GL lines, none while moving; `intra` ones (both ends in one AS) only when zoomed in. */
export function linesWhenStill(motion: Motion, intra: boolean) {
  return class StillEdgeLineProgram extends EdgeLineProgram {
    override render(params: RenderParams): void {
      if (motion.moving || (intra && params.zoomRatio > motion.intraLinksBelowRatio)) return;
      super.render(params);
    }
  };
}
