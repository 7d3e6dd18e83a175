using Cimef.Site.Data.Entities;
using Microsoft.AspNetCore.Identity;

namespace Cimef.Site.Web;

/// <summary>Creating a staff account: shared by the admin page, the CLI and the configuration bootstrap.</summary>
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
}
