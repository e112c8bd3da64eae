/** The services `hopmap up` runs, each as a supervised child on its default local port; later issues add theirs. */
export interface UpService {
  command: string;
  port: number;
  /** Extra arguments the local single-machine setup needs. */
  args?: string[];
}

export const UP_SERVICES: UpService[] = [];
