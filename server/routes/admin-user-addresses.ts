import { adminUser, userAddressBody, userAddressParams } from "../../shared/schemas/admin";
import { idParam } from "../../shared/schemas/common";
import { addUserAddress, removeUserAddress } from "../commands/users/addresses";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { presentAdminUser } from "../presenters/users";

/** A person's other addresses (aliases), which the gateway takes as theirs: tenant admins only. */
export const adminUserAddressRoutes: RouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/api/admin/users/:id/addresses",
    summary:
      "Give a user another address (an alias in one of your domains): mail to it is theirs at the gateway, and they may send from it",
    tag: "admin",
    access: { kind: "permission", permission: "users.manage" },
    params: idParam,
    body: userAddressBody,
    response: adminUser,
    handler: async ({ actor, services, ip, params, body }) => ({
      json: presentAdminUser(
        await addUserAddress(services, actor, ip, params.id, body.address),
        services.now(),
      ),
    }),
  }),
  defineRoute({
    method: "delete",
    path: "/api/admin/users/:id/addresses/:address",
    summary: "Take another address away from a user (mail to it is then refused as an unknown user)",
    tag: "admin",
    access: { kind: "permission", permission: "users.manage" },
    params: userAddressParams,
    response: adminUser,
    handler: async ({ actor, services, ip, params }) => ({
      json: presentAdminUser(
        await removeUserAddress(services, actor, ip, params.id, params.address),
        services.now(),
      ),
    }),
  }),
];
