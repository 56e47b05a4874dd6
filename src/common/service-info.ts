/** How the service names itself (Swagger, the Open Inference Protocol's server metadata). */
export const SERVICE_NAME = 'modeldock';
export const SERVICE_VERSION = '0.1.0';
