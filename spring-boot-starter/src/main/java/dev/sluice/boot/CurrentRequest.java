package dev.sluice.boot;

import java.security.Principal;

import org.springframework.util.ClassUtils;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

import jakarta.servlet.http.HttpServletRequest;

/**
 * The HTTP request this thread serves, where a servlet container serves it (Spring MVC): its authenticated principal
 * (Spring Security's, or the container's) and the address it came from. Nulls elsewhere (WebFlux, no web at all).
 */
final class CurrentRequest {

    private static final boolean SERVLET = ClassUtils.isPresent(
                    "org.springframework.web.context.request.RequestContextHolder",
                    CurrentRequest.class.getClassLoader())
            && ClassUtils.isPresent("jakarta.servlet.http.HttpServletRequest", CurrentRequest.class.getClassLoader());

    private CurrentRequest() {}

    /** The authenticated principal's name, or null. */
    static String principal() {
        HttpServletRequest request = SERVLET ? Servlet.request() : null;
        Principal p = request == null ? null : request.getUserPrincipal();
        return p == null ? null : p.getName();
    }

    /** The address the request came from, or null. */
    static String origin() {
        HttpServletRequest request = SERVLET ? Servlet.request() : null;
        return request == null ? null : request.getRemoteAddr();
    }

    /** Loaded only where the servlet API and Spring's web module are there. */
    private static final class Servlet {
        static HttpServletRequest request() {
            RequestAttributes attributes = RequestContextHolder.getRequestAttributes();
            return attributes instanceof ServletRequestAttributes s ? s.getRequest() : null;
        }
    }
}
