/** What the store keeps about one profile, without its bytes. */
export interface StoredProfileInfo {
  id: string;
  type: 'cpu';
  startMs: number;
  durationMs: number;
  sizeBytes: number;
}

export interface StoredProfile extends StoredProfileInfo {
  /** Gzipped pprof. */
  data: Uint8Array;
}

/** Profiles in arrival order, capped in count and total bytes; the oldest go first. */
export class ProfileStore {
  private readonly profiles: StoredProfile[] = [];
  private bytes = 0;
  private evictedCount = 0;

  constructor(
    private readonly maxProfiles: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.profiles.length;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  /** Profiles dropped to keep within the caps since the store was made. */
  get evicted(): number {
    return this.evictedCount;
  }

  /**
   * Adds a profile and evicts the oldest until both caps hold. A profile larger than maxBytes on its
   * own is refused (false), and the stored ones stay: storing it would evict them all, then itself.
   */
  add(profile: StoredProfile): boolean {
    if (profile.sizeBytes > this.maxBytes) return false;
    this.profiles.push(profile);
    this.bytes += profile.sizeBytes;
    while (this.profiles.length > this.maxProfiles || this.bytes > this.maxBytes) {
      const oldest = this.profiles.shift() as StoredProfile;
      this.bytes -= oldest.sizeBytes;
      this.evictedCount++;
    }
    return true;
  }

  get(id: string): StoredProfile | undefined {
    return this.profiles.find((p) => p.id === id);
  }

  /** Profiles that started in [startMs, endMs), oldest first. */
  inRange(startMs: number, endMs: number): StoredProfile[] {
    return this.profiles.filter((p) => p.startMs >= startMs && p.startMs < endMs);
  }
}
