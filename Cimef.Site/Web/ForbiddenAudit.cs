using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Cimef.Site.Web;

/// <summary>A signed-in staff member refused by a role policy leaves an audit line (who, what path), then gets the usual 403.</summary>
public sealed class ForbiddenAudit(TimeProvider time) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Forbidden && context.User.Identity?.IsAuthenticated == true)
        {
            var db = context.RequestServices.GetRequiredService<CimefDb>();
            Audit.Staff(db, context.User, time.GetUtcNow().UtcDateTime, "authz.forbidden", "Path", null,
                $"{context.Request.Method} {context.Request.Path}");
            await db.SaveChangesAsync(context.RequestAborted);
        }
        await _default.HandleAsync(next, context, policy, result);
    }
}
