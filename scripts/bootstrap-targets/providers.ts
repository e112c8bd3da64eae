// Cloud providers in the default bootstrap set, selected by origin AS number.
// `org` is the AS organisation name as it appears in @ip-location-db/asn; the
// generator warns when the data's org column stops matching `orgPattern`
// (ASN renamed or reassigned) or when an ASN has no IPv4 rows at all.

export interface AsnEntry {
  readonly asn: number;
  readonly org: string;
}

export interface Provider {
  /** Output file name without `.txt`, kebab-case. */
  readonly slug: string;
  readonly name: string;
  readonly orgPattern: RegExp;
  readonly asns: readonly AsnEntry[];
}

export const PROVIDERS: readonly Provider[] = [
  {
    slug: 'aws',
    name: 'Amazon Web Services',
    orgPattern: /amazon/i,
    asns: [
      { asn: 16509, org: 'Amazon.com, Inc.' },
      { asn: 14618, org: 'Amazon.com, Inc.' },
      { asn: 8987, org: 'Amazon Data Services Ireland Ltd' },
      { asn: 38895, org: 'Amazon.com Tech Telecom' },
    ],
  },
  {
    slug: 'google-cloud',
    name: 'Google Cloud',
    orgPattern: /google/i,
    asns: [
      { asn: 396982, org: 'Google LLC' }, // Google Cloud Platform
      // Google's main network: GCP load balancers and serverless front ends live here too.
      { asn: 15169, org: 'Google LLC' },
    ],
  },
  {
    slug: 'microsoft-azure',
    name: 'Microsoft Azure',
    orgPattern: /microsoft/i,
    asns: [
      { asn: 8075, org: 'Microsoft Corporation' },
      { asn: 12076, org: 'Microsoft Corporation' }, // ExpressRoute
    ],
  },
  {
    slug: 'oracle-cloud',
    name: 'Oracle Cloud Infrastructure',
    orgPattern: /oracle/i,
    asns: [{ asn: 31898, org: 'Oracle Corporation' }],
  },
  {
    slug: 'digitalocean',
    name: 'DigitalOcean',
    orgPattern: /digitalocean/i,
    asns: [
      { asn: 14061, org: 'DigitalOcean, LLC' },
      { asn: 393406, org: 'DigitalOcean, LLC' },
      { asn: 46652, org: 'DigitalOcean, LLC' }, // ex-ServerStack
    ],
  },
  {
    slug: 'akamai-linode',
    name: 'Akamai Connected Cloud (Linode)',
    // Linode's ASN is registered to Akamai since the acquisition.
    orgPattern: /akamai|linode/i,
    asns: [
      { asn: 63949, org: 'Akamai Technologies, Inc.' },
      { asn: 48337, org: 'Linode, LLC' },
    ],
  },
  {
    slug: 'hetzner',
    name: 'Hetzner',
    orgPattern: /hetzner/i,
    asns: [
      { asn: 24940, org: 'Hetzner Online GmbH' },
      { asn: 213230, org: 'Hetzner Online GmbH' }, // Hetzner Cloud
      { asn: 212317, org: 'Hetzner Online GmbH' }, // US locations
      { asn: 215859, org: 'Hetzner Online GmbH' },
    ],
  },
  {
    slug: 'ovh',
    name: 'OVHcloud',
    orgPattern: /ovh/i,
    asns: [
      { asn: 16276, org: 'OVH SAS' },
      { asn: 35540, org: 'OVH SAS' },
    ],
  },
  {
    slug: 'vultr',
    name: 'Vultr',
    // Vultr's legal entity is The Constant Company.
    orgPattern: /constant company|vultr/i,
    asns: [{ asn: 20473, org: 'The Constant Company, LLC' }],
  },
  {
    slug: 'alibaba-cloud',
    name: 'Alibaba Cloud',
    orgPattern: /alibaba/i,
    asns: [
      { asn: 45102, org: 'Alibaba (US) Technology Co., Ltd.' },
      { asn: 37963, org: 'Hangzhou Alibaba Advertising Co.,Ltd.' },
      { asn: 134963, org: 'Alibaba Cloud (Singapore) Private Limited' },
    ],
  },
  {
    slug: 'cloudflare',
    name: 'Cloudflare',
    orgPattern: /cloudflare/i,
    asns: [
      { asn: 13335, org: 'Cloudflare, Inc.' },
      { asn: 209242, org: 'Cloudflare London, LLC' },
      { asn: 132892, org: 'Cloudflare, Inc.' },
    ],
  },
  {
    slug: 'scaleway',
    name: 'Scaleway',
    orgPattern: /scaleway/i,
    asns: [
      { asn: 12876, org: 'Scaleway SAS' },
      { asn: 29447, org: 'SCALEWAY S.A.S.' },
      { asn: 54265, org: 'SCALEWAY US CORPORATION' },
      { asn: 202023, org: 'SCALEWAY S.A.S.' },
    ],
  },
  {
    slug: 'ibm-cloud',
    name: 'IBM Cloud',
    orgPattern: /ibm|softlayer/i,
    asns: [{ asn: 36351, org: 'IBM Cloud' }], // ex-SoftLayer
  },
  {
    slug: 'tencent-cloud',
    name: 'Tencent Cloud',
    orgPattern: /tencent/i,
    asns: [
      { asn: 45090, org: 'Shenzhen Tencent Computer Systems Company Limited' },
      { asn: 132203, org: 'Shenzhen Tencent Computer Systems Company Limited' },
      { asn: 133478, org: 'Tencent Cloud Computing (Beijing) Co., Ltd' },
    ],
  },
  {
    slug: 'huawei-cloud',
    name: 'Huawei Cloud',
    orgPattern: /huawei/i,
    asns: [
      { asn: 55990, org: 'Huawei Cloud Service data center' },
      { asn: 136907, org: 'HUAWEI INTERNATIONAL PTE. LTD.' },
      { asn: 141180, org: 'HUAWEI INTERNATIONAL PTE. LTD.' },
    ],
  },
  {
    slug: 'contabo',
    name: 'Contabo',
    orgPattern: /contabo/i,
    asns: [
      { asn: 51167, org: 'Contabo GmbH' },
      { asn: 40021, org: 'Contabo Inc.' },
      { asn: 141995, org: 'Contabo Asia Private Limited' },
    ],
  },
];
