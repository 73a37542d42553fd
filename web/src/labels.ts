// Words for the API's enums.

export const KINDS: Record<string, string> = {
  PARK: 'Park',
  GREEN_SPACE: 'Green space',
  CYCLE_PATH: 'Cycle path',
  WALKING_ROUTE: 'Walking route',
  COMMUNITY_GROUP: 'Community group',
  CHARITY: 'Charity',
  ACTIVITY: 'Activity',
  VENUE: 'Venue',
  SERVICE: 'Service',
  HEALTH_CHAMPION: 'Health champion',
};

export const ACCESSIBILITY: Record<string, string> = {
  STEP_FREE_ACCESS: 'Step-free access',
  ACCESSIBLE_TOILET: 'Accessible toilet',
  HEARING_LOOP: 'Hearing loop',
  QUIET_SPACE: 'Quiet space',
  DEMENTIA_FRIENDLY: 'Dementia friendly',
  CHANGING_PLACES: 'Changing Places toilet',
  SEATING: 'Seating',
  ACCESSIBLE_PARKING: 'Accessible parking',
  BSL_INTERPRETATION: 'BSL interpretation',
  LARGE_PRINT: 'Large print',
  ASSISTANCE_DOGS_WELCOME: 'Assistance dogs welcome',
  LIFT: 'Lift',
};

export function distance(meters: number): string {
  if (meters < 1000) return `${Math.round(meters / 10) * 10} m`;
  return `${(meters / 1000).toFixed(1)} km`;
}
