using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Web;

/// <summary>Staff accounts: their sign-in services, and creating one (the admin page, the CLI and the configuration bootstrap).</summary>
public static class StaffAccounts
{
    public static async Task<IdentityResult> CreateAsync(IServiceProvider sp, string email, string fullName, string role, string password)
    {
        if (!Roles.All.Contains(role))
            return IdentityResult.Failed(new IdentityError { Code = "role", Description = $"Rôle inconnu : {role}. Rôles : {string.Join(", ", Roles.All)}." });
        var users = sp.GetRequiredService<UserManager<StaffUser>>();
        var time = sp.GetRequiredService<TimeProvider>();
        var user = new StaffUser { UserName = email.Trim(), Email = email.Trim(), FullName = fullName.Trim(), EmailConfirmed = true, CreatedAt = time.GetUtcNow().UtcDateTime };
        var result = await users.CreateAsync(user, password);
        if (!result.Succeeded) return result;
        return await users.AddToRoleAsync(user, role);
    }

    /// <summary>
    /// Staff sign-in: ASP.NET Core Identity on the clinic's database (lockout per account, and per recognised device by
    /// <see cref="StaffLockout"/>), its cookie, the Bearer API tokens, and the role policies every page and API names.
    /// </summary>
    public static IServiceCollection AddStaffIdentity(this IServiceCollection services)
    {
        services.Configure<PasswordHasherOptions>(o => o.IterationCount = 210_000);
        services.AddIdentity<StaffUser, IdentityRole>(o =>
            {
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
                o.Lockout.AllowedForNewUsers = true;
                o.Password.RequiredLength = 10;
                o.Password.RequireDigit = true;
                o.Password.RequireLowercase = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireNonAlphanumeric = false;
                o.User.RequireUniqueEmail = true;
            })
            .AddEntityFrameworkStores<CimefDb>()
            .AddErrorDescriber<FrenchIdentityErrors>()
            .AddDefaultTokenProviders();
        services.AddScoped<StaffLockout>();
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(1));
        services.ConfigureApplicationCookie(o =>
        {
            o.Cookie.Name = "cimef_staff";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.LoginPath = "/Account/SignIn";
            o.LogoutPath = "/Account/SignOut";
            o.AccessDeniedPath = "/Account/Denied";
            o.ExpireTimeSpan = TimeSpan.FromHours(10);
            o.SlidingExpiration = true;
            o.Events.OnRedirectToLogin = ctx => AuthRedirects.Redirect(ctx.HttpContext, ctx.RedirectUri, StatusCodes.Status401Unauthorized);
            o.Events.OnRedirectToAccessDenied = ctx => AuthRedirects.Redirect(ctx.HttpContext, ctx.RedirectUri, StatusCodes.Status403Forbidden);
        });
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiTokenHandler>(AuthSchemes.ApiToken, null);
        services.AddAuthorization(Policies.Add);
        services.AddOptions<AuthorizationOptions>().Configure<IOptions<AccessOptions>>((o, access) => Policies.AddCredentials(o, access.Value));
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ForbiddenAudit>();
        return services;
    }
}
